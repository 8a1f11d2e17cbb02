"""ISO-*: what the isolation clauses probe, beyond the standard tests of the family (in
tests/test_families.py)."""

from __future__ import annotations

from urllib.parse import unquote

from conformance.records import Verdict
from conformance.target import Target
from tests.families import ISOLATION

CLAUSES = ISOLATION.clauses
RUNS = ISOLATION.runs


reference = RUNS.reference_fixture()


def test_near_misses_of_the_owner_are_probed(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "ISO-001", 9)
    assert result.verdict is Verdict.PASSED, result.summary
    users = [
        unquote(e.request.url.split("/users/")[1].split("/")[0]) for e in reference.since(mark)
    ]
    owner = users[0]
    assert owner.swapcase() in users
    assert owner + "x" in users
    assert owner[:-1] in users
    assert len(set(users)) > 8
