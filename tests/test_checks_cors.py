"""CORS-*: every CORS clause tolerates what is free and origins with ports, and probes
every near miss (the standard tests of the family are in tests/test_families.py)."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from conformance.records import Verdict
from conformance.reference import ReferenceApp
from conformance.reference.routing import Route
from conformance.target import Target
from tests.clause_runs import ClauseRuns
from tests.families import CORS

CLAUSES = CORS.clauses
TOKEN = CORS.token
RUNS = CORS.runs


reference = RUNS.reference_fixture()


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
