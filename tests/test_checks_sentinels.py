"""SENT-*: every sentinels clause passes on both conformant backends and fails on its mutant."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from conformance.records import Verdict
from conformance.registry import registry
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.sentinels import (
    MUTANTS,
    CaseSensitiveSentinels,
    NullSessionIdIs422,
    SentinelMeansLatest,
    SentinelsLookedUp,
    StoresBeforeRefusing,
    UntrimmedSentinels,
)
from tests.clause_runs import ClauseRuns

FAMILY = "sentinels"
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
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "sentinels-token-9a3b"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

#: What the summary of each mutant's failure must say.
MESSAGES: dict[type[Mutant], str] = {
    SentinelsLookedUp: "'undefined'",
    CaseSensitiveSentinels: "'None': got 404",
    UntrimmedSentinels: "got 4",
    NullSessionIdIs422: "session_id null: got 422",
    StoresBeforeRefusing: "the user's list holds new sessions",
    SentinelMeansLatest: "'undefined'",
}


reference = RUNS.reference_fixture()
stdlib_server = RUNS.stdlib_server_fixture()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_reference(reference: Target, clause_id: str, seed: int) -> None:
    result = RUNS.run(reference, clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.socket
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_stdlib_server(stdlib_server: Target, clause_id: str, seed: int) -> None:
    result = RUNS.run(stdlib_server, clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.parametrize(
    ("mutant", "clause_id"),
    [pytest.param(m, c, id=f"{c}-{m.__name__}") for m in MUTANTS for c in m.trips],
)
def test_fails_against_its_mutant(mutant: type[Mutant], clause_id: str) -> None:
    result = check_mutant(mutant, clause_id)
    assert result.verdict is Verdict.FAILED, result.summary
    assert MESSAGES[mutant] in result.summary
    finding = result.findings[0]
    assert finding.expected
    assert finding.exchange is not None


def test_every_sentinels_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


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
