"""ERR-*: every errors clause passes on both conformant backends (with and without auth)
and fails on its mutants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings

from conformance.hostile import ODD_IDS, Hostile, hostile_requests, usual_suspects
from conformance.profile import CANONICAL
from conformance.records import Verdict
from conformance.reference import ReferenceConfig, create_app
from conformance.registry import registry
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.errors import (
    MUTANTS,
    AnyMediaType,
    CrashesOnNonAsciiUserId,
    HtmlNotFound,
    LeakyNotFound,
    LenientJSON,
    LimitOneByteShort,
    LookupBeforeValidation,
    NoAllowHeader,
    SizeBeforeMediaType,
)
from tests.clause_runs import ClauseRuns

FAMILY = "errors"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "errors-token-71c4d2"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

#: What the summary of each mutant's failure must say, per clause.
MESSAGES: dict[tuple[type[Mutant], str], str] = {
    (HtmlNotFound, "ERR-001"): "got 404 (text/html",
    (HtmlNotFound, "ERR-006"): "Content-Type is 'text/html",
    (NoAllowHeader, "ERR-002"): "405 with no Allow header",
    (LenientJSON, "ERR-003"): "create with NaN",
    (AnyMediaType, "ERR-004"): "Content-Type text/plain: got 201",
    (AnyMediaType, "ERR-008"): "sent as text/plain (must be 415 first)",
    (LimitOneByteShort, "ERR-005"): "exactly 1048576 bytes (1 MiB): got 413",
    (LeakyNotFound, "ERR-006"): "the body leaks an exception class name",
    (CrashesOnNonAsciiUserId, "ERR-007"): "user='é'",
    (LookupBeforeValidation, "ERR-008"): "never-created id (must be 422 first): got 404",
    (SizeBeforeMediaType, "ERR-008"): "bytes of text/plain (must be 415 first): got 413",
}


reference = RUNS.reference_fixture()
stdlib_server = RUNS.stdlib_server_fixture()


@pytest.fixture(scope="module")
def open_reference() -> Iterator[Target]:
    """The reference with auth and CORS off (the auth-dependent probes are skipped)."""
    with Target(app=create_app(ReferenceConfig(provision_seconds=0.1))) as target:
        yield target


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_reference(reference: Target, clause_id: str, seed: int) -> None:
    result = RUNS.run(reference, clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_reference_without_auth(open_reference: Target, clause_id: str) -> None:
    result = RUNS.run(open_reference, clause_id, 3, token=None, cors_origin=None)
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
    assert MESSAGES[(mutant, clause_id)] in result.summary
    finding = result.findings[0]
    assert finding.expected
    assert finding.exchange is not None


def test_every_errors_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


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
