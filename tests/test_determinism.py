"""Same seed, same requests; a clause replays alone with the run's seed.

Clauses run at once in lanes, so the order of a run's requests depends on scheduling;
what the seed fixes is the requests each clause sends. Compared here as multisets, with
the ids the server minted masked (its counter runs in whatever order requests arrive).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from conformance.context import Settings
from conformance.records import Exchange
from conformance.reference import ReferenceConfig, create_app
from conformance.runner import RunFinished, clause_seed, run
from conformance.target import Target
from tests.conftest import ORIGIN, TOKEN

#: Clauses whose requests depend on nothing but the seed (no polling loop, no threads).
STABLE = ["LIFE-001", "LIFE-009", "VAL-002", "VAL-006", "SENT-001", "ERR-006", "ISO-001"]


def _requests(seed: int, clause_ids: list[str], workers: int = 4) -> list[tuple[str, str, bytes]]:
    counter = itertools.count()
    config = ReferenceConfig(
        provision_seconds=0, token=TOKEN, cors_origin=ORIGIN,
        id_factory=lambda: f"ref{next(counter):06d}",
    )  # fmt: skip
    settings = Settings(seed=seed, token=TOKEN, cors_origin=ORIGIN, max_examples=10)
    with Target(app=create_app(config), token=TOKEN) as target:
        for event in run(target, settings, clause_ids=clause_ids, workers=workers):
            if isinstance(event, RunFinished):
                assert event.report.totals()["passed"] == len(clause_ids), event.report.totals()
        exchanges: tuple[Exchange, ...] = target.since(0)
    return sorted(
        _minted_ids_masked([(e.request.method, e.request.url, e.request.body) for e in exchanges])
    )


def test_same_seed_same_requests() -> None:
    first = _requests(1234, STABLE)
    second = _requests(1234, STABLE)
    assert len(first) > 50
    assert first == second


def test_one_lane_or_many_the_same_requests() -> None:
    assert _requests(1234, STABLE, workers=1) == _requests(1234, STABLE, workers=4)


def test_another_seed_other_requests() -> None:
    assert _requests(1234, STABLE) != _requests(4321, STABLE)


def test_a_clause_replays_alone_exactly_as_in_the_full_run() -> None:
    alone = Counter(_requests(99, ["VAL-002"]))
    together = Counter(_requests(99, ["LIFE-001", "VAL-002"]))
    # Every request VAL-002 sends alone (the preflight too) is among those of the run
    # with LIFE-001: the same requests, in whatever interleaving.
    assert len(alone) > 5
    assert alone <= together


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
