"""AUTH-*: every auth clause passes on both conformant backends, tolerates what is free,
and fails on its mutants."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from conformance.records import Verdict
from conformance.reference import ReferenceApp
from conformance.registry import registry
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
from tests.clause_runs import ClauseRuns

FAMILY = "auth"
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "auth-token-5e2a7c"
SEEDS = (1, 2)
RUNS = ClauseRuns(TOKEN)

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
    with RUNS.in_process(ChallengeWithParameters(RUNS.config())) as target:
        result = RUNS.run(target, clause_id, 3)
    assert result.verdict is Verdict.PASSED, result.summary


def test_not_applicable_without_a_token(reference: Target) -> None:
    for clause_id in CLAUSES:
        result = RUNS.run(reference, clause_id, 1, token=None)
        assert result.verdict is Verdict.NOT_APPLICABLE, clause_id
    result = RUNS.run(reference, "AUTH-005", 1, cors_origin=None)
    assert result.verdict is Verdict.NOT_APPLICABLE


def test_a_wrong_configured_token_is_an_error_not_a_verdict(reference: Target) -> None:
    result = RUNS.run(reference, "AUTH-003", 1, token="not-the-token")
    assert result.verdict is Verdict.ERROR
    assert "precondition failed" in result.summary


def test_the_token_never_appears_in_the_records(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "AUTH-002", 4)
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
