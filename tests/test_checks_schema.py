"""SCHEMA-*: responses to generated requests match the OpenAPI document on both
conformant backends; a reference answering outside the document fails."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from conformance.generation import is_missing_id
from conformance.profile import CANONICAL, Profile, Route
from conformance.records import Verdict
from conformance.registry import registry
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.schema import MUTANTS, EpochCreatedAt
from tests.clause_runs import ClauseRuns

FAMILY = "schema"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "schema-token-4b7f09"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

MESSAGES: dict[type[Mutant], str] = {
    EpochCreatedAt: "created_at: ",
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
    assert result.findings[0].exchange is not None


def test_every_schema_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


def test_every_operation_is_exercised_with_successes_and_no_sentinel(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "SCHEMA-001", 3)
    assert result.verdict is Verdict.PASSED, result.summary
    seen: set[tuple[str, str, int | None]] = set()
    for exchange in reference.since(mark):
        path = urlsplit(exchange.request.url).path
        segments = [unquote(s) for s in path.split("/")[1:]]
        if len(segments) >= 4 and segments[0] == "users":
            assert not is_missing_id(segments[3]), exchange.request.url
        assert b'"session_id":"undefined"' not in exchange.request.body
        if exchange.request.method in ("GET", "DELETE"):
            assert not exchange.request.body, exchange.request.url
        shape = "/".join(
            s if s in ("users", "sessions", "status", "run", "run_sse") else "*" for s in segments
        )
        seen.add((exchange.request.method, shape, exchange.status))
    for method, shape, status in (
        ("POST", "users/*/sessions", 201),
        ("GET", "users/*/sessions", 200),
        ("GET", "users/*/sessions/*", 200),
        ("GET", "users/*/sessions/*/status", 200),
        ("DELETE", "users/*/sessions/*", 200),
        ("POST", "run", 200),
        ("POST", "run_sse", 200),
        ("GET", "users/*/sessions/*", 404),
    ):
        assert (method, shape, status) in seen, (method, shape, status)


def test_another_layout_is_not_applicable(reference: Target) -> None:
    moved = tuple(
        (role, Route(route.method, "/invoke") if role == "run" else route)
        for role, route in CANONICAL.routes
    )
    result = RUNS.run(reference, "SCHEMA-001", 1, profile=Profile(name="moved-run", routes=moved))
    assert result.verdict is Verdict.NOT_APPLICABLE, result.summary
    assert "canonical layout" in result.summary
