"""POLL-*: every polling clause passes on both conformant backends and fails on its mutant."""

from __future__ import annotations

import pytest

from conformance.records import Verdict
from conformance.registry import registry
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
from tests.clause_runs import ClauseRuns

FAMILY = "polling"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "polling-token-c58d"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

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
    with RUNS.reference(provision_seconds=0) as target:
        result = RUNS.run(target, clause_id, 5)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.socket
def test_passes_when_the_stdlib_server_is_ready_at_create() -> None:
    with RUNS.stdlib_server(provision_seconds=0, base_path="") as target:
        for clause_id in CLAUSES:
            result = RUNS.run(target, clause_id, 6)
            assert result.verdict is Verdict.PASSED, (clause_id, result.summary)


def test_polls_continue_after_the_final_phase(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "POLL-005", 7)
    assert result.verdict is Verdict.PASSED, result.summary
    statuses = [e.body_json() for e in reference.since(mark) if e.request.url.endswith("/status")]
    phases = [s.get("phase") for s in statuses if isinstance(s, dict)]
    assert phases[-4:] == ["Ready"] * 4  # the first Ready, then AFTER_FINAL more polls
