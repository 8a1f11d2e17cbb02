"""ID-*: what the identity clauses do beyond the standard tests of the family (in
tests/test_families.py)."""

from __future__ import annotations

from conformance.records import Verdict
from conformance.target import Target
from fixtures.broken import check_mutant
from fixtures.broken.identity import ClockIds
from tests.families import IDENTITY

CLAUSES = IDENTITY.clauses
RUNS = IDENTITY.runs


reference = RUNS.reference_fixture()


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
