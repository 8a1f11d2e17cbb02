"""SENT-*: what the sentinels clauses probe, beyond the standard tests of the family (in
tests/test_families.py)."""

from __future__ import annotations

from urllib.parse import unquote

from conformance.records import Verdict
from conformance.target import Target
from tests.families import SENTINELS

SPELLED = {
    "undefined",
    "null",
    "none",
    "nil",
    "nan",
    "[object object]",
    "None",
    "NaN",
    "[object Object]",
}
CLAUSES = SENTINELS.clauses
RUNS = SENTINELS.runs


reference = RUNS.reference_fixture()


def test_sentinels_are_probed_in_many_spellings(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "SENT-001", 8)
    assert result.verdict is Verdict.PASSED, result.summary
    ids = [
        unquote(e.request.url.split("/sessions/")[1].split("/")[0]) for e in reference.since(mark)
    ]
    assert {"undefined", "null", "None", "nil", "NaN", "[object Object]", " "} <= set(ids)
    assert any(i != i.strip() and i.strip() for i in ids), "no padded sentinel was probed"
    assert any(i.strip() not in SPELLED and i.strip().lower() in SPELLED for i in ids)
    assert "" not in ids, "an empty path segment must never be probed"


def test_a_client_chosen_sentinel_needs_the_client_ids_feature(reference: Target) -> None:
    result = RUNS.run(reference, "SENT-004", 1, features=frozenset())
    assert result.verdict is Verdict.NOT_APPLICABLE
