"""SCHEMA-*: the generated requests exercise every operation, and another layout is not
applicable (the standard tests of the family are in tests/test_families.py)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from conformance.generation import is_missing_id
from conformance.profile import CANONICAL, Profile, Route
from conformance.records import Verdict
from conformance.target import Target
from tests.families import SCHEMA

CLAUSES = SCHEMA.clauses
RUNS = SCHEMA.runs


reference = RUNS.reference_fixture()


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
