"""ISO-*: every isolation clause passes on both conformant backends and fails on its mutant."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.records import ClauseResult, Verdict
from conformance.reference import ReferenceConfig, create_app
from conformance.registry import registry
from conformance.runner import run_clause, select
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
from fixtures.servers.stdlib_server import start

FAMILY = "isolation"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "isolation-token-41c0"
ORIGIN = "https://app.example"
SEEDS = (1, 2)

#: What the summary of each mutant's failure must say.
MESSAGES: dict[type[Mutant], str] = {
    LookupByIdOnly: "by user '0'",
    CaseInsensitiveOwner: "by user 'SC-USER-",
    TurnBeforeOwnerCheck: "session.turns is",
    DeleteByIdOnly: "the owner's get answered 404",
    ListByPrefix: "contains other users' sessions",
}


def _settings(seed: int) -> Settings:
    return Settings(seed=seed, token=TOKEN, cors_origin=ORIGIN)


def _run(target: Target, clause_id: str, seed: int) -> ClauseResult:
    (clause,) = select([clause_id])
    return run_clause(clause, ContractClient(target), _settings(seed))


@pytest.fixture(scope="module")
def reference() -> Iterator[Target]:
    config = ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN)
    with Target(app=create_app(config), token=TOKEN) as target:
        yield target


@pytest.fixture(scope="module")
def stdlib_server() -> Iterator[Target]:
    server = start(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN, base_path="/api/v1")
    try:
        with Target(server.url, token=TOKEN) as target:
            yield target
    finally:
        server.stop()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_reference(reference: Target, clause_id: str, seed: int) -> None:
    result = _run(reference, clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.socket
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_stdlib_server(stdlib_server: Target, clause_id: str, seed: int) -> None:
    result = _run(stdlib_server, clause_id, seed)
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
    result = _run(reference, "ISO-001", 9)
    assert result.verdict is Verdict.PASSED, result.summary
    users = [
        unquote(e.request.url.split("/users/")[1].split("/")[0]) for e in reference.since(mark)
    ]
    owner = users[0]
    assert owner.swapcase() in users
    assert owner + "x" in users
    assert owner[:-1] in users
    assert len(set(users)) > 8
