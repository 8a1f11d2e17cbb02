"""ISO-*: every isolation clause passes on both conformant backends and fails on its mutant."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from conformance.records import Verdict
from conformance.registry import registry
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.isolation import (
    MUTANTS,
    CaseInsensitiveOwner,
    DeleteByIdOnly,
    ListByPrefix,
    LookupByIdOnly,
    TurnBeforeOwnerCheck,
)
from tests.clause_runs import ClauseRuns

FAMILY = "isolation"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "isolation-token-41c0"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

#: What the summary of each mutant's failure must say.
MESSAGES: dict[type[Mutant], str] = {
    LookupByIdOnly: "by user 'sc-0'",
    CaseInsensitiveOwner: "by user 'SC-USER-",
    TurnBeforeOwnerCheck: "session.turns is",
    DeleteByIdOnly: "the owner's get answered 404",
    ListByPrefix: "contains other users' sessions",
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


def test_every_isolation_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


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
