"""AUTH-*: every auth clause tolerates what is free, is not applicable without a token, and
never shows the token (the standard tests of the family are in tests/test_families.py)."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from conformance.records import Verdict
from conformance.reference import ReferenceApp
from conformance.target import Target
from fixtures.broken import check_mutant
from fixtures.broken.auth import AnySchemeAccepted
from tests.families import AUTH

CLAUSES = AUTH.clauses
TOKEN = AUTH.token
RUNS = AUTH.runs


reference = RUNS.reference_fixture()


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
