"""CORS-*: every CORS clause passes on both conformant backends, tolerates what is free,
and fails on its mutants."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from conformance.records import Verdict
from conformance.reference import ReferenceApp
from conformance.reference.routing import Route
from conformance.registry import registry
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.cors import (
    MUTANTS,
    NoCorsOnErrors,
    NoVaryOrigin,
    PrefixOriginMatch,
    PreflightWithoutAuthorization,
    ReflectsAnyOrigin,
    WildcardWithCredentials,
)
from tests.clause_runs import ClauseRuns

FAMILY = "cors"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "cors-token-71d0b4"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

#: What the summary of each mutant's failure must say, per clause.
MESSAGES: dict[tuple[type[Mutant], str], str] = {
    (PreflightWithoutAuthorization, "CORS-001"): "not naming ['authorization']",
    (NoCorsOnErrors, "CORS-002"): "Access-Control-Allow-Origin is None",
    (NoVaryOrigin, "CORS-001"): "Vary is None, not naming Origin",
    (NoVaryOrigin, "CORS-002"): "Vary is None, not naming Origin",
    (ReflectsAnyOrigin, "CORS-003"): "got Access-Control-Allow-Origin: https://sc-",
    (PrefixOriginMatch, "CORS-003"): "from https://app.example.sc-",
    (WildcardWithCredentials, "CORS-001"): "Access-Control-Allow-Origin is '*'",
    (WildcardWithCredentials, "CORS-002"): "Access-Control-Allow-Origin is '*'",
    (WildcardWithCredentials, "CORS-003"): "got Access-Control-Allow-Origin: *",
    (WildcardWithCredentials, "CORS-004"): "Access-Control-Allow-Credentials: true",
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
    assert MESSAGES[mutant, clause_id] in result.summary
    finding = result.findings[0]
    assert finding.expected
    assert finding.exchange is not None


def test_every_cors_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


class GenerousCors(ReferenceApp):
    """Conformant, with every free choice taken the other way: lower-case and extra
    ``Vary`` values, credentials allowed, extra methods and headers, a long ``Max-Age``."""

    def cors_headers(self, request: Request) -> dict[str, str]:
        headers = super().cors_headers(request)
        if headers:
            headers["Vary"] = "accept-encoding,origin"
            headers["Access-Control-Allow-Credentials"] = "true"
        return headers

    def preflight_response(self, request: Request, route: Route) -> Response:
        response = super().preflight_response(request, route)
        if "access-control-allow-methods" in response.headers:
            response.headers["Access-Control-Allow-Methods"] = "get,post,delete,put,options"
            response.headers["Access-Control-Allow-Headers"] = (
                "x-request-id,content-type,AUTHORIZATION"
            )
            response.headers["Access-Control-Max-Age"] = "86400"
        return response


@pytest.mark.parametrize("clause_id", CLAUSES)
def test_tolerates_every_free_choice(clause_id: str) -> None:
    with RUNS.in_process(GenerousCors(RUNS.config())) as target:
        result = RUNS.run(target, clause_id, 5)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.parametrize("origin", ["http://localhost:3000", "https://[::1]:8443"])
def test_passes_for_origins_with_ports(origin: str) -> None:
    runs = ClauseRuns(TOKEN, origin)
    with runs.reference() as target:
        for clause_id in CLAUSES:
            result = runs.run(target, clause_id, 6)
            assert result.verdict is Verdict.PASSED, (clause_id, result.summary)


def test_not_applicable_without_an_origin(reference: Target) -> None:
    for clause_id in CLAUSES:
        result = RUNS.run(reference, clause_id, 1, cors_origin=None)
        assert result.verdict is Verdict.NOT_APPLICABLE, clause_id


def test_other_origins_include_every_near_miss(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "CORS-003", 7)
    assert result.verdict is Verdict.PASSED, result.summary
    sent = {e.request.header("origin") for e in reference.since(mark)}
    assert "null" in sent
    assert "http://app.example" in sent
    assert any(o and o.startswith("https://app.example.sc-") for o in sent)
    assert any(o and o.endswith(".app.example") for o in sent)
    assert any(o and o.startswith("https://app.example:") for o in sent)
    assert RUNS.origin not in sent
