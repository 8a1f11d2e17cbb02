"""VAL-*: the validation clauses send what they promise, and the generators behind them
produce exactly what they promise (the standard tests of the family are in
tests/test_families.py)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.generation import (
    component,
    is_missing_id,
    matches,
    optional_subsets,
    valid_bodies,
)
from conformance.mutations import Mutation, Site, invalid_bodies, mutation_sites, pattern_breakers
from conformance.records import Exchange, JSONValue, Verdict
from conformance.schemas import schema_errors
from conformance.target import Target
from tests.families import VALIDATION

CLAUSES = VALIDATION.clauses
RUNS = VALIDATION.runs
COMPONENTS = ("CreateSession", "RunRequest")
EXAMPLES = settings(max_examples=150, database=None, suppress_health_check=list(HealthCheck))
PER_SITE = settings(max_examples=50, database=None, suppress_health_check=list(HealthCheck))


reference = RUNS.reference_fixture()


# -- the clauses --------------------------------------------------------------------------


def test_every_combination_of_optional_fields_is_sent(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "VAL-006", 1)
    assert result.verdict is Verdict.PASSED, result.summary
    sent = {_keys(e.request.body) for e in reference.since(mark) if _is_create(e)}
    assert set(optional_subsets("CreateSession")) <= sent


def test_without_client_ids_no_create_body_carries_a_session_id(reference: Target) -> None:
    for clause_id in ("VAL-001", "VAL-002", "VAL-006"):
        mark = reference.mark()
        result = RUNS.run(reference, clause_id, 1, features=frozenset())
        assert result.verdict is Verdict.PASSED, result.summary
        bodies = [e.request.body for e in reference.since(mark) if _is_create(e)]
        assert bodies
        assert not any(b"session_id" in body for body in bodies), clause_id


def test_every_mutation_site_is_tried(reference: Target) -> None:
    mark = reference.mark()
    result = RUNS.run(reference, "VAL-003", 1)
    assert result.verdict is Verdict.PASSED, result.summary
    assert len([e for e in reference.since(mark) if e.request.url.endswith("/run")]) >= 2 * len(
        mutation_sites("RunRequest")
    )


# -- the generators -----------------------------------------------------------------------


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_valid_body_is_valid(name: str) -> None:
    @EXAMPLES
    @given(valid_bodies(name))
    def check(body: dict[str, JSONValue]) -> None:
        assert schema_errors(name, body) == []
        assert not is_missing_id(body.get("session_id", "x"))

    check()


@pytest.mark.parametrize("subset", optional_subsets("CreateSession"), ids=sorted)
def test_valid_bodies_hold_exactly_the_fields_asked_for(subset: frozenset[str]) -> None:
    @EXAMPLES
    @given(valid_bodies("CreateSession", present=subset))
    def check(body: dict[str, JSONValue]) -> None:
        assert set(body) == subset
        assert schema_errors("CreateSession", body) == []

    check()


def test_optional_subsets_are_every_combination() -> None:
    subsets = optional_subsets("CreateSession")
    assert len(subsets) == 8 == len(set(subsets))
    assert subsets[0] == frozenset()
    assert subsets[-1] == {"metadata", "session_id", "ttl_seconds"}
    assert optional_subsets("RunRequest") == (frozenset(),)
    assert all(
        "session_id" not in s
        for s in optional_subsets("CreateSession", omit=frozenset({"session_id"}))
    )


@pytest.mark.parametrize(
    ("name", "site"),
    [
        pytest.param(n, s, id=f"{n}-{s.kind}-{s.pointer or 'root'}")
        for n in COMPONENTS
        for s in mutation_sites(n)
    ],
)
def test_every_invalid_body_is_invalid_and_names_its_field(name: str, site: Site) -> None:
    @PER_SITE
    @given(invalid_bodies(name, site))
    def check(mutation: Mutation) -> None:
        errors = schema_errors(name, mutation.body)
        assert errors, f"{mutation.describe()} is valid: {mutation.body!r}"
        assert mutation.kind == site.kind
        assert _concrete(site.pointer).fullmatch(mutation.pointer) or site.kind == "unknown_field"
        assert not (
            isinstance(mutation.body, dict) and is_missing_id(mutation.body.get("session_id", "x"))
        )
        # the schema's own errors are at the pointer or at its parent object
        parent = mutation.pointer.rsplit("/", 1)[0] if mutation.pointer else ""
        where = {line.split(": ", 1)[0] for line in errors}
        assert where & {mutation.pointer or "(root)", parent or "(root)"}, (errors, mutation)

    check()


def test_mutation_sites_cover_the_contract() -> None:
    run_sites = set(mutation_sites("RunRequest"))
    for pointer in ("", "/new_message", "/new_message/parts/*"):
        assert Site("unknown_field", pointer) in run_sites
    for field in (
        "/user_id",
        "/session_id",
        "/new_message",
        "/new_message/role",
        "/new_message/parts",
    ):
        assert Site("missing", field) in run_sites
    assert Site("not_const", "/new_message/role") in run_sites
    assert Site("too_few_items", "/new_message/parts") in run_sites
    assert Site("pattern_mismatch", "/session_id") in run_sites
    create_sites = set(mutation_sites("CreateSession"))
    assert {
        Site("below_minimum", "/ttl_seconds"),
        Site("above_maximum", "/ttl_seconds"),
    } <= create_sites
    assert Site("non_object_root", "") in create_sites
    assert not any(
        s.pointer.startswith("/session_id")
        for s in mutation_sites("CreateSession", omit=frozenset({"session_id"}))
    )


@EXAMPLES
@given(pattern_breakers(component("UserId")))
def test_pattern_breakers_never_match(value: str) -> None:
    assert not matches(component("UserId"), value)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}", value) is None


@pytest.mark.parametrize(
    ("value", "missing"),
    [
        (None, True),
        ("", True),
        ("  ", True),
        (" Undefined\t", True),
        ("[object Object]", True),
        ("NaN", True),
        ("nil", True),
        ("sc-1", False),
        ("nullable", False),
        (7, False),
    ],
)
def test_missing_ids_are_what_the_contract_says(value: JSONValue, missing: bool) -> None:
    assert is_missing_id(value) is missing


def test_a_trailing_newline_breaks_every_id_pattern() -> None:
    @EXAMPLES
    @given(
        st.sampled_from(["UserId", "ClientSessionId"]).flatmap(
            lambda n: st.tuples(st.just(n), valid_bodies("RunRequest"))
        )
    )
    def check(case: tuple[str, dict[str, JSONValue]]) -> None:
        name, body = case
        value = str(body["user_id" if name == "UserId" else "session_id"])
        assert matches(component(name), value)
        assert not matches(component(name), value + "\n")

    check()


def _concrete(pointer: str) -> re.Pattern[str]:
    return re.compile(re.escape(pointer).replace(r"\*", r"\d+"))


def _is_create(exchange: Exchange) -> bool:
    return exchange.request.method == "POST" and exchange.request.url.endswith("/sessions")


def _keys(body: bytes) -> frozenset[str]:
    parsed = json.loads(body)
    return frozenset(parsed) if isinstance(parsed, dict) else frozenset()
