"""A kept-alive connection the target closed as a request went out on it
(:mod:`conformance.keepalive`): the request goes again on a new connection, as browsers
send it; a failure on a fresh connection is the target's answer and stays one.

Over real sockets, against :class:`fixtures.hostile.ClosesKeptAlive` (uvicorn's way after
an app's exception, e.g. Google ADK's on a run body it crashes on: the race made
deterministic) and :class:`fixtures.hostile.Hangup` (a reset instead of any answer).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reporting.saved import read_report
from conformance.target import Target, TargetError
from fixtures.hostile import ClosesKeptAlive, Conformant, Hangup, HostileServer, on_paths

pytestmark = pytest.mark.socket


@pytest.fixture
def closes_kept_alive() -> Iterator[tuple[HostileServer, ClosesKeptAlive]]:
    behaviour = ClosesKeptAlive()
    with HostileServer(behaviour) as server:
        yield server, behaviour


def test_a_request_on_a_connection_the_target_closed_goes_again_on_a_new_one(
    closes_kept_alive: tuple[HostileServer, ClosesKeptAlive],
) -> None:
    server, behaviour = closes_kept_alive
    with Target(server.url) as target:
        exchanges = [target.send("GET", "/users/sc-k/sessions") for _ in range(5)]
        recorded = target.since(0)
    assert [e.status for e in exchanges] == [200] * 5
    # every request after the first found its kept connection closed, and went again
    assert behaviour.closed_on == 4
    assert server.connections == 5
    assert server.requests == 9
    assert len(recorded) == 5  # the attempts that got nothing are not exchanges


def test_every_clause_is_decided_on_a_target_closing_its_kept_connections(
    closes_kept_alive: tuple[HostileServer, ClosesKeptAlive], tmp_path: Path
) -> None:
    server, behaviour = closes_kept_alive
    path = tmp_path / "report.json"
    code = main(["check", server.url, "--seed", "3", "--max-examples", "3", "-q",
                 "--report-json", str(path), "--clause", "LIFE-001", "LIFE-003", "LIFE-007",
                 "VAL-004", "ERR-006", "SENT-001"])  # fmt: skip
    report = read_report(path)
    assert {c.id: c.verdict.value for c in report.clauses} == dict.fromkeys(
        ("LIFE-001", "LIFE-003", "LIFE-007", "VAL-004", "ERR-006", "SENT-001"), "passed"
    )
    assert code == 0
    assert behaviour.closed_on > 0


def test_a_reset_on_a_fresh_connection_is_not_sent_again() -> None:
    behaviour = Hangup()
    with (
        HostileServer(behaviour) as server,
        Target(server.url) as target,
        pytest.raises(TargetError, match="reset"),
    ):
        target.send("GET", "/users/sc-k/sessions")
    assert behaviour.hits == 1


def test_a_reset_on_a_kept_connection_is_sent_once_more_on_a_fresh_one() -> None:
    """The run route resets every connection; the reads before it leave one connection in
    the pool, which the run's request goes out on first: then once on a fresh connection,
    whose reset is the target's answer."""
    behaviour = Hangup(when=on_paths("/run"))
    with HostileServer(behaviour) as server, Target(server.url) as target:
        for _ in range(3):
            target.send("GET", "/users/sc-k/sessions")
        with pytest.raises(TargetError):
            target.send("POST", "/run", content=b"{}")
    assert behaviour.hits == 2
    assert server.connections == 2


def test_a_conformant_keep_alive_server_costs_no_second_request() -> None:
    behaviour = Conformant()
    with HostileServer(behaviour) as server, Target(server.url) as target:
        for _ in range(10):
            target.send("GET", "/users/sc-k/sessions")
    assert server.requests == 10
    assert server.connections == 1
