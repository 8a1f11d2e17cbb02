"""SENT-*: every sentinels clause passes on both conformant backends and fails on its mutant."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.records import ClauseResult, Verdict
from conformance.reference import ReferenceConfig, create_app
from conformance.registry import registry
from conformance.runner import run_clause, select
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.sentinels import (
    MUTANTS,
    CaseSensitiveSentinels,
    NullSessionIdIs422,
    SentinelMeansLatest,
    SentinelsLookedUp,
    StoresBeforeRefusing,
    UntrimmedSentinels,
)
from fixtures.servers.stdlib_server import start

FAMILY = "sentinels"
SPELLED = {
    "undefined",
    "null",
    "none",
    "nil",
    "nan",
    "[object object]",
    "None",
    "NaN",
    "[object Object]",
}
CLAUSES = [clause.id for clause in registry().clauses if clause.family == FAMILY]
TOKEN = "sentinels-token-9a3b"
ORIGIN = "https://app.example"
SEEDS = (1, 2)

#: What the summary of each mutant's failure must say.
MESSAGES: dict[type[Mutant], str] = {
    SentinelsLookedUp: "'undefined'",
    CaseSensitiveSentinels: "'None': got 404",
    UntrimmedSentinels: "got 4",
    NullSessionIdIs422: "session_id null: got 422",
    StoresBeforeRefusing: "the user's list holds new sessions",
    SentinelMeansLatest: "'undefined'",
}


def _settings(seed: int) -> Settings:
    return Settings(seed=seed, token=TOKEN, cors_origin=ORIGIN)


def _run(target: Target, clause_id: str, seed: int) -> ClauseResult:
    (clause,) = select([clause_id])
    return run_clause(clause, ContractClient(target), _settings(seed))


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
    result = _run(reference, clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.socket
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("clause_id", CLAUSES)
def test_passes_against_the_stdlib_server(stdlib_server: Target, clause_id: str, seed: int) -> None:
    result = _run(stdlib_server, clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.parametrize(
    ("mutant", "clause_id"),
    [pytest.param(m, c, id=f"{c}-{m.__name__}") for m in MUTANTS for c in m.trips],
)
def test_fails_against_its_mutant(mutant: type[Mutant], clause_id: str) -> None:
    result = check_mutant(mutant, clause_id)
    assert result.verdict is Verdict.FAILED, result.summary
    assert MESSAGES[mutant] in result.summary
    finding = result.findings[0]
    assert finding.expected
    assert finding.exchange is not None


def test_every_sentinels_clause_has_a_mutant() -> None:
    assert {c for m in MUTANTS for c in m.trips} == set(CLAUSES)


def test_sentinels_are_probed_in_many_spellings(reference: Target) -> None:
    mark = reference.mark()
    result = _run(reference, "SENT-001", 8)
    assert result.verdict is Verdict.PASSED, result.summary
    ids = [
        unquote(e.request.url.split("/sessions/")[1].split("/")[0]) for e in reference.since(mark)
    ]
    assert {"undefined", "null", "None", "nil", "NaN", "[object Object]", " "} <= set(ids)
    assert any(i != i.strip() and i.strip() for i in ids), "no padded sentinel was probed"
    assert any(i.strip() not in SPELLED and i.strip().lower() in SPELLED for i in ids)
    assert "" not in ids, "an empty path segment must never be probed"


def test_a_client_chosen_sentinel_needs_the_client_ids_feature(reference: Target) -> None:
    settings = Settings(seed=1, token=TOKEN, cors_origin=ORIGIN, features=frozenset())
    (clause,) = select(["SENT-004"])
    result = run_clause(clause, ContractClient(reference), settings)
    assert result.verdict is Verdict.NOT_APPLICABLE
