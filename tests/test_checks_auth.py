"""AUTH-*: every auth clause passes on both conformant backends, tolerates what is free,
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
from conformance.registry import registry
from conformance.runner import run_clause, select
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.auth import (
    MUTANTS,
    AnySchemeAccepted,
    CaseSensitiveScheme,
    LookupBeforeAuth,
    NoChallenge,
    PreflightNeedsToken,
    StreamWithoutToken,
    TokenPrefixAccepted,
)
from fixtures.servers.stdlib_server import start

FAMILY = "auth"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "auth-token-5e2a7c"
ORIGIN = "https://app.example"
SEEDS = (1, 2)

#: What the summary of each mutant's failure must say.
MESSAGES: dict[type[Mutant], str] = {
    StreamWithoutToken: "run_stream w",
    NoChallenge: "the 401 carries WWW-Authenticate None",
    TokenPrefixAccepted: "'Bearer [REDACTED]x': got 201",
    AnySchemeAccepted: "'Basic [REDACTED]'",
    CaseSensitiveScheme: "the scheme written 'bearer' and the right token: got 401",
    LookupBeforeAuth: "with no token: got 404",
    PreflightNeedsToken: "without a token (as browsers send it): got 401",
}


def _settings(seed: int, token: str | None = TOKEN, origin: str | None = ORIGIN) -> Settings:
    return Settings(seed=seed, token=token, cors_origin=origin)


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
    finding = result.findings[0]
    assert finding.expected
    assert finding.exchange is not None
    assert MESSAGES[mutant] in result.summary


def test_every_auth_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


class ChallengeWithParameters(ReferenceApp):
    """Conformant: RFC 6750 parameters, after another challenge, and extra envelope fields."""

    def unauthorized_response(self, request: Request) -> Response:
        return self.error_response(
            401,
            "UNAUTHORIZED",
            "A valid bearer token is required.",
            {"request_id": "r-1"},
            {"WWW-Authenticate": 'Basic realm="x", bearer realm="api", error="invalid_token"'},
        )


@pytest.mark.parametrize("clause_id", CLAUSES)
def test_tolerates_a_challenge_with_parameters(clause_id: str) -> None:
    app = ChallengeWithParameters(
        ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN)
    )
    with Target(app=app, token=TOKEN) as target:
        result = _run(target, clause_id, _settings(3))
    assert result.verdict is Verdict.PASSED, result.summary


def test_not_applicable_without_a_token(reference: Target) -> None:
    for clause_id in CLAUSES:
        result = _run(reference, clause_id, _settings(1, token=None))
        assert result.verdict is Verdict.NOT_APPLICABLE, clause_id
    result = _run(reference, "AUTH-005", _settings(1, origin=None))
    assert result.verdict is Verdict.NOT_APPLICABLE


def test_a_wrong_configured_token_is_an_error_not_a_verdict(reference: Target) -> None:
    result = _run(reference, "AUTH-003", _settings(1, token="not-the-token"))
    assert result.verdict is Verdict.ERROR
    assert "precondition failed" in result.summary


def test_the_token_never_appears_in_the_records(reference: Target) -> None:
    mark = reference.mark()
    result = _run(reference, "AUTH-002", _settings(4))
    assert result.verdict is Verdict.PASSED, result.summary
    exchanges = reference.since(mark)
    sent = {e.request.header("authorization") or "" for e in exchanges}
    assert len(sent) > 10, "AUTH-002 probes many credentials"
    for exchange in exchanges:
        assert TOKEN not in repr(exchange.request)


def test_findings_never_show_the_token() -> None:
    result = check_mutant(AnySchemeAccepted, "AUTH-002")
    assert result.verdict is Verdict.FAILED
    assert "mutant-token" not in result.summary
    assert all("mutant-token" not in f.message for f in result.findings)
