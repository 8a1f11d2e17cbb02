"""POLL-*: every polling clause passes on both conformant backends and fails on its mutant."""

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
from fixtures.broken.polling import (
    CONFORMANT,
    MUTANTS,
    FailsWithoutError,
    NeverReady,
    PercentPerPhase,
    PhaseFlapsBack,
    ReadyAt99,
    ReadyFlaps,
    StatusWithoutProgress,
)
from fixtures.servers.stdlib_server import start

FAMILY = "polling"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "polling-token-c58d"
ORIGIN = "https://app.example"
SEEDS = (1, 2)

#: What the summary of each mutant's failure must say.
MESSAGES: dict[type[Mutant], str] = {
    StatusWithoutProgress: "'progress' is a required property",
    PercentPerPhase: "percent went down from 60 to 10",
    PhaseFlapsBack: "phase went back from Provisioning to Starting",
    ReadyAt99: "Ready with percent 99",
    ReadyFlaps: "phase Ready was followed by",
    FailsWithoutError: "Failed with error None",
    NeverReady: "was still 'Starting' after",
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
    result = check_mutant(mutant, clause_id, ready_timeout=1.0 if mutant is NeverReady else 30.0)
    assert result.verdict is Verdict.FAILED, result.summary
    assert MESSAGES[mutant] in result.summary
    finding = result.findings[0]
    assert finding.expected
    assert finding.exchange is not None


def test_every_polling_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


@pytest.mark.parametrize("clause_id", [c for c in CLAUSES if c != "POLL-006"])
def test_without_a_final_phase_the_other_clauses_are_undecided(clause_id: str) -> None:
    result = check_mutant(NeverReady, clause_id, ready_timeout=0.5)
    assert result.verdict is Verdict.ERROR, result.summary
    assert "reached no final phase within 0.5s" in result.summary
    assert "POLL-006" in result.summary


@pytest.mark.parametrize("variant", CONFORMANT)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_unusual_conformant_variants(variant: type[Mutant], clause_id: str) -> None:
    result = check_mutant(variant, clause_id)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_when_sessions_are_ready_at_create(clause_id: str) -> None:
    config = ReferenceConfig(provision_seconds=0, token=TOKEN, cors_origin=ORIGIN)
    with Target(app=create_app(config), token=TOKEN) as target:
        result = _run(target, clause_id, 5)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.socket
def test_passes_when_the_stdlib_server_is_ready_at_create() -> None:
    server = start(provision_seconds=0, token=TOKEN, cors_origin=ORIGIN)
    try:
        with Target(server.url, token=TOKEN) as target:
            for clause_id in CLAUSES:
                result = _run(target, clause_id, 6)
                assert result.verdict is Verdict.PASSED, (clause_id, result.summary)
    finally:
        server.stop()


def test_polls_continue_after_the_final_phase(reference: Target) -> None:
    mark = reference.mark()
    result = _run(reference, "POLL-005", 7)
    assert result.verdict is Verdict.PASSED, result.summary
    statuses = [e.body_json() for e in reference.since(mark) if e.request.url.endswith("/status")]
    phases = [s.get("phase") for s in statuses if isinstance(s, dict)]
    assert phases[-4:] == ["Ready"] * 4  # the first Ready, then AFTER_FINAL more polls
