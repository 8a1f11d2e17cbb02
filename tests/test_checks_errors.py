"""ERR-*: every errors clause passes on the reference without auth too; the hostile
requests are what they promise (the standard tests of the family are in
tests/test_families.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from conformance.hostile import ODD_IDS, Hostile, hostile_requests, usual_suspects
from conformance.profile import CANONICAL
from conformance.records import Verdict
from conformance.reference import ReferenceConfig, create_app
from conformance.target import Target
from tests.families import ERRORS

CLAUSES = ERRORS.clauses
RUNS = ERRORS.runs


reference = RUNS.reference_fixture()


@pytest.fixture(scope="module")
def open_reference() -> Iterator[Target]:
    """The reference with auth and CORS off (the auth-dependent probes are skipped)."""
    with Target(app=create_app(ReferenceConfig(provision_seconds=0.1))) as target:
        yield target


@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_reference_without_auth(open_reference: Target, clause_id: str) -> None:
    result = RUNS.run(open_reference, clause_id, 3, token=None, cors_origin=None)
    assert result.verdict is Verdict.PASSED, result.summary


def test_oversized_bodies_are_exact(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "ERR-005", 1)
    assert result.verdict is Verdict.PASSED, result.summary
    sizes = sorted(len(e.request.body) for e in reference.since(mark) if e.request.body)
    assert sizes.count(1_048_576) == 2
    assert sizes.count(1_048_577) == 2


def test_usual_suspects_put_every_odd_id_in_a_path_and_a_body() -> None:
    requests = usual_suspects(CANONICAL)
    for odd in ODD_IDS:
        assert any(r.user == odd for r in requests)
        assert any(r.session_id == odd for r in requests)
        assert any(r.body and odd.encode() in r.body for r in requests if r.role == "run")
    assert all(r.must_fail for r in requests if r.role not in ("create", "list"))


@settings(max_examples=200, database=None, suppress_health_check=list(HealthCheck))
@given(hostile_requests(CANONICAL, with_auth=True))
def test_hostile_requests_are_as_sent_and_know_when_they_must_fail(hostile: Hostile) -> None:
    assert hostile.method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    if hostile.method in ("GET", "DELETE"):
        assert hostile.body is None
    if hostile.role in ("get", "delete", "status", "run", "run_stream", None) or not hostile.auth:
        assert hostile.must_fail
