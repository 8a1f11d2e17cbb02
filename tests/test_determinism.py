"""Same seed, same requests; a clause replays alone with the run's seed."""

from __future__ import annotations

import itertools
import re

from conformance.context import Settings
from conformance.records import Exchange
from conformance.reference import ReferenceConfig, create_app
from conformance.runner import RunFinished, clause_seed, run
from conformance.target import Target
from tests.conftest import ORIGIN, TOKEN

#: Clauses whose requests depend on nothing but the seed (no polling loop, no threads).
STABLE = ["LIFE-001", "LIFE-009", "VAL-002", "VAL-006", "SENT-001", "ERR-006", "ISO-001"]


def _requests(seed: int, clause_ids: list[str]) -> list[tuple[str, str, bytes]]:
    counter = itertools.count()
    config = ReferenceConfig(
        provision_seconds=0, token=TOKEN, cors_origin=ORIGIN,
        id_factory=lambda: f"ref{next(counter):06d}",
    )  # fmt: skip
    settings = Settings(seed=seed, token=TOKEN, cors_origin=ORIGIN, max_examples=10)
    with Target(app=create_app(config), token=TOKEN) as target:
        for event in run(target, settings, clause_ids=clause_ids):
            if isinstance(event, RunFinished):
                assert event.report.totals()["passed"] == len(clause_ids), event.report.totals()
        exchanges: tuple[Exchange, ...] = target.since(0)
    return [(e.request.method, e.request.url, e.request.body) for e in exchanges]


def test_same_seed_same_requests() -> None:
    first = _requests(1234, STABLE)
    second = _requests(1234, STABLE)
    assert len(first) > 50
    assert first == second


def test_another_seed_other_requests() -> None:
    assert _requests(1234, STABLE) != _requests(4321, STABLE)


def test_a_clause_replays_alone_exactly_as_in_the_full_run() -> None:
    alone = _minted_ids_masked(_requests(99, ["VAL-002"]))
    together = _minted_ids_masked(_requests(99, ["LIFE-001", "VAL-002"]))
    # Drop the preflight and LIFE-001's requests: what is left is VAL-002's, identical
    # but for the ids the server minted (its counter ran on during LIFE-001: an answer,
    # not something the harness chose).
    assert together[-len(alone) + 1 :] == alone[1:]


def _minted_ids_masked(requests: list[tuple[str, str, bytes]]) -> list[tuple[str, str, bytes]]:
    minted = re.compile(r"ref\d{6}")
    return [
        (method, minted.sub("ref#", url), re.sub(rb"ref\d{6}", b"ref#", body))
        for method, url, body in requests
    ]


def test_clause_seeds_are_stable_and_distinct() -> None:
    assert clause_seed(1, "LIFE-001") == clause_seed(1, "LIFE-001")
    assert clause_seed(1, "LIFE-001") != clause_seed(1, "LIFE-002")
    assert clause_seed(1, "LIFE-001") != clause_seed(2, "LIFE-001")
    assert re.fullmatch(r"\d+", str(clause_seed(0, "X-001")))
