"""ID-*: every identity clause passes on both conformant backends and fails on its mutant."""

from __future__ import annotations

import pytest

from conformance.records import Verdict
from conformance.registry import registry
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.identity import (
    MUTANTS,
    ClockIds,
    CollectionLocation,
    LaggingReads,
    NullTopLevelId,
    RacyCounterIds,
    RunAnswersInvocationId,
    TwoMintedIds,
)
from tests.clause_runs import ClauseRuns

FAMILY = "identity"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "identity-token-7e21"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

#: What the summary of each mutant's failure must say.
MESSAGES: dict[type[Mutant], str] = {
    NullTopLevelId: "top-level session_id is missing",
    TwoMintedIds: "but session.session_id is",
    CollectionLocation: "does not name the created session",
    RunAnswersInvocationId: "the run response's session_id is",
    ClockIds: "twice",
    RacyCounterIds: "concurrent creates returned only 1 distinct ids",
    LaggingReads: "right after create: got 404",
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


def test_every_identity_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


def test_a_create_that_breaks_inside_a_property_is_undecided_not_a_crash() -> None:
    # ClockIds answers 500 to a second create in the same second: ID-001 cannot decide
    result = check_mutant(ClockIds, "ID-001")
    assert result.verdict is Verdict.ERROR
    assert result.summary.startswith("precondition failed: create with")


def test_ids_are_checked_when_sessions_are_ready_at_create() -> None:
    with RUNS.reference(provision_seconds=0) as target:
        for clause_id in CLAUSES:
            result = RUNS.run(target, clause_id, 3)
            assert result.verdict is Verdict.PASSED, (clause_id, result.summary)


def test_without_client_ids_no_body_names_a_session_id(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "ID-006", 4, features=frozenset())
    assert result.verdict is Verdict.PASSED, result.summary
    creates = [e for e in reference.since(mark) if e.request.url.endswith("/sessions")]
    assert creates
    assert all(b"session_id" not in e.request.body for e in creates if e.request.method == "POST")
