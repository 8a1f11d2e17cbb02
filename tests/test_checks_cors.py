"""CORS-*: every CORS clause passes on both conformant backends, tolerates what is free,
and fails on its mutants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import Response

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.records import ClauseResult, Verdict
from conformance.reference import ReferenceApp, ReferenceConfig, create_app
from conformance.reference.routing import Route
from conformance.registry import registry
from conformance.runner import run_clause, select
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
from fixtures.servers.stdlib_server import start

FAMILY = "cors"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "cors-token-71d0b4"
ORIGIN = "https://app.example"
SEEDS = (1, 2)

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


def _settings(seed: int, origin: str | None = ORIGIN) -> Settings:
    return Settings(seed=seed, token=TOKEN, cors_origin=origin)


def _run(target: Target, clause_id: str, settings: Settings) -> ClauseResult:
    (clause,) = select([clause_id])
    return run_clause(clause, ContractClient(target), settings)


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
    result = _run(reference, clause_id, _settings(seed))
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.socket
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_stdlib_server(stdlib_server: Target, clause_id: str, seed: int) -> None:
    result = _run(stdlib_server, clause_id, _settings(seed))
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
    app = GenerousCors(ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN))
    with Target(app=app, token=TOKEN) as target:
        result = _run(target, clause_id, _settings(5))
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.parametrize("origin", ["http://localhost:3000", "https://[::1]:8443"])
def test_passes_for_origins_with_ports(origin: str) -> None:
    config = ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=origin)
    with Target(app=create_app(config), token=TOKEN) as target:
        for clause_id in CLAUSES:
            result = _run(target, clause_id, _settings(6, origin=origin))
            assert result.verdict is Verdict.PASSED, (clause_id, result.summary)


def test_not_applicable_without_an_origin(reference: Target) -> None:
    for clause_id in CLAUSES:
        result = _run(reference, clause_id, _settings(1, origin=None))
        assert result.verdict is Verdict.NOT_APPLICABLE, clause_id


def test_other_origins_include_every_near_miss(reference: Target) -> None:
    mark = reference.mark()
    result = _run(reference, "CORS-003", _settings(7))
    assert result.verdict is Verdict.PASSED, result.summary
    sent = {e.request.header("origin") for e in reference.since(mark)}
    assert "null" in sent
    assert "http://app.example" in sent
    assert any(o and o.startswith("https://app.example.sc-") for o in sent)
    assert any(o and o.endswith(".app.example") for o in sent)
    assert any(o and o.startswith("https://app.example:") for o in sent)
    assert ORIGIN not in sent
