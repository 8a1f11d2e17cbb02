"""POLL-*: the polling clauses with no final phase, on unusual conformant variants and on
sessions ready at create (the standard tests of the family are in tests/test_families.py)."""

from __future__ import annotations

import pytest

from conformance.records import Verdict
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.polling import (
    CONFORMANT,
    NeverReady,
)
from tests.families import POLLING

CLAUSES = POLLING.clauses
RUNS = POLLING.runs


reference = RUNS.reference_fixture()


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
