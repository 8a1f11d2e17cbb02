"""ID-*: every identity clause passes on both conformant backends and fails on its mutant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.records import ClauseResult, Verdict
from conformance.reference import ReferenceConfig, create_app
from conformance.registry import registry
from conformance.runner import run_clause, select
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
from fixtures.servers.stdlib_server import start

FAMILY = "identity"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "identity-token-7e21"
ORIGIN = "https://app.example"
SEEDS = (1, 2)

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


def test_every_identity_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


def test_a_create_that_breaks_inside_a_property_is_undecided_not_a_crash() -> None:
    # ClockIds answers 500 to a second create in the same second: ID-001 cannot decide
    result = check_mutant(ClockIds, "ID-001")
    assert result.verdict is Verdict.ERROR
    assert result.summary.startswith("precondition failed: create with")


def test_ids_are_checked_when_sessions_are_ready_at_create() -> None:
    config = ReferenceConfig(provision_seconds=0, token=TOKEN, cors_origin=ORIGIN)
    with Target(app=create_app(config), token=TOKEN) as target:
        for clause_id in CLAUSES:
            result = _run(target, clause_id, 3)
            assert result.verdict is Verdict.PASSED, (clause_id, result.summary)


def test_without_client_ids_no_body_names_a_session_id(reference: Target) -> None:
    settings = Settings(seed=4, token=TOKEN, cors_origin=ORIGIN, features=frozenset())
    (clause,) = select(["ID-006"])
    mark = reference.mark()
    result = run_clause(clause, ContractClient(reference), settings)
    assert result.verdict is Verdict.PASSED, result.summary
    creates = [e for e in reference.since(mark) if e.request.url.endswith("/sessions")]
    assert creates
    assert all(b"session_id" not in e.request.body for e in creates if e.request.method == "POST")
