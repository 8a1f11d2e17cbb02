"""The harness against hostile targets: whatever a target does, the run ends within its
bounds, says what it could not decide and why (``error``, never ``passed``), fails what
was answered wrongly, writes a valid report, prints no traceback, and cleans up.

Every run here gets small bounds (``SMALL``) and a whole-run ``--deadline``; no test
waits for a real 30-second provisioning or a 100 MB body.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance import interruption
from conformance.cli import main
from conformance.client import ContractClient
from conformance.context import CheckContext, Settings
from conformance.contract import report_schema
from conformance.records import Verdict
from conformance.reference import ReferenceApp, ReferenceConfig
from conformance.runner import CLEANUP_OVERTIME, ClauseFinished, RunFinished, run, select
from conformance.target import ExchangeTooLong, Limits, Target, TargetError
from fixtures.hostile import (
    Behaviour,
    CompressionBomb,
    Conformant,
    DiesAfter,
    EndlessStream,
    Hangup,
    HeaderFlood,
    HostileServer,
    Http10,
    HugeBody,
    InvalidJSON,
    InvalidUTF8,
    RedirectAway,
    RedirectLoop,
    Refusing,
    Silent,
    Trickle,
    WrongLength,
    brotli_module,
    on_paths,
    slow_provisioning,
)
from tests.peak import parent_high_water_kib, wait_measured

# slow: 38 runs of the CLI against misbehaving servers (about 30 s on 2 idle cores).
pytestmark = [pytest.mark.socket, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
#: Every run's whole-run deadline, and the bounds of each exchange.
DEADLINE = 30.0
SMALL = ["--seed", "11", "--max-examples", "2", "--timeout", "2", "--connect-timeout", "1",
         "--request-deadline", "3", "--deadline", f"{DEADLINE:g}", "-q"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Outcome:
    code: int
    report: dict[str, object]
    console: str
    seconds: float

    @property
    def verdicts(self) -> dict[str, str]:
        return {c["id"]: c["verdict"] for c in self.clauses}

    @property
    def clauses(self) -> list[dict[str, Any]]:
        clauses = self.report["clauses"]
        assert isinstance(clauses, list)
        return clauses

    def summary(self, clause_id: str) -> str:
        return str(next(c["summary"] for c in self.clauses if c["id"] == clause_id))


def _valid_report(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    assert isinstance(data, dict)
    return data


def check(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> Outcome:
    """``session-conformance check URL`` with small bounds, in-process; the common
    promises: within the deadline, a valid report, no traceback, no check that crashed."""
    path = tmp_path / "report.json"
    started = time.monotonic()
    code = main(["check", url, *SMALL, "--report-json", str(path), *extra])
    seconds = time.monotonic() - started
    out, err = capsys.readouterr()
    report = _valid_report(path)
    outcome = Outcome(code, report, out + err, seconds)
    assert seconds < DEADLINE + CLEANUP_OVERTIME, seconds
    assert "Traceback" not in outcome.console
    crashed = [c["id"] for c in outcome.clauses if "the check itself failed" in c["summary"]]
    assert crashed == [], [outcome.summary(cid) for cid in crashed]
    return outcome


@pytest.fixture
def serve() -> Iterator[type[HostileServer]]:
    """``serve(behaviour, app=...)`` starts a hostile server; all stop after the test."""
    started: list[HostileServer] = []

    class Started(HostileServer):
        def __init__(self, behaviour: Behaviour, **kwargs: object) -> None:
            super().__init__(behaviour, **kwargs)  # type: ignore[arg-type]
            started.append(self)

    yield Started
    for server in started:
        server.stop()


def _reference() -> ReferenceApp:
    return ReferenceApp(ReferenceConfig(provision_seconds=0))


def _all_error(outcome: Outcome, reason: str) -> None:
    assert outcome.code == 3, outcome.console
    assert set(outcome.verdicts.values()) == {"error"}
    for clause in outcome.clauses:
        assert reason in clause["summary"], clause["summary"]
    assert reason in outcome.console  # and the note says why, on stderr


# -- no answer at all ---------------------------------------------------------------------


def test_a_port_that_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Refusing() as refusing:
        outcome = check(refusing.url, tmp_path, capsys)
    _all_error(outcome, "target unreachable")
    assert "Connection refused" in outcome.summary("LIFE-001")


def test_a_server_that_never_answers(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve(Silent())
    outcome = check(server.url, tmp_path, capsys, "--timeout", "0.5")
    _all_error(outcome, "nothing received for 0.5 s (--timeout)")
    assert outcome.seconds < 10


def test_a_server_that_resets_every_connection(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve(Hangup())
    outcome = check(server.url, tmp_path, capsys)
    _all_error(outcome, "no usable answer from the target")
    assert "reset" in outcome.summary("LIFE-001").lower()


# -- too slow, too long, cut short --------------------------------------------------------


def test_one_byte_a_second_ends_at_the_request_deadline(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each byte comes well within the read timeout (3 s), so only the whole-exchange
    deadline (1.5 s) can end it; the answer would take minutes."""
    behaviour = Trickle(interval=1.0)
    server = serve(behaviour)
    outcome = check(server.url, tmp_path, capsys, "--timeout", "3", "--request-deadline", "1.5")
    _all_error(outcome, "no complete answer within 1.5 s (--request-deadline)")
    assert outcome.seconds < 10
    assert behaviour.hits == 1  # the preflight: nothing more was sent to a dead-slow target


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_a_100_mb_body_is_not_read_past_the_cap(
    declared: bool, serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    behaviour = HugeBody(declared=declared)
    server = serve(behaviour)
    outcome = check(server.url, tmp_path, capsys)
    _all_error(outcome, "with more than 4194304 bytes (--max-response-bytes)")
    # the read stopped at the cap: what left the server is the cap and the socket buffers
    assert behaviour.sent < 16 * 1024 * 1024 < behaviour.size


def test_an_oversize_answer_on_one_route_costs_only_its_clauses(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _reference()
    server = serve(HugeBody(declared=False, when=on_paths("/status")), app=app)
    outcome = check(
        server.url, tmp_path, capsys, "--max-response-bytes", "100000",
        "--clause", "POLL-001", "LIFE-001", "ID-001",
    )  # fmt: skip
    assert outcome.verdicts == {"POLL-001": "error", "LIFE-001": "passed", "ID-001": "passed"}
    assert "more than 100000 bytes (--max-response-bytes)" in outcome.summary("POLL-001")
    assert outcome.code == 3
    assert len(app.store) == 0  # POLL-001's session was deleted all the same


def test_a_stream_that_never_ends(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _reference()
    behaviour = EndlessStream(when=on_paths("/run_sse"))
    server = serve(behaviour, app=app)
    outcome = check(
        server.url, tmp_path, capsys, "--request-deadline", "1",
        "--clause", "SSE-001", "LIFE-001", "LIFE-005",
    )  # fmt: skip
    assert outcome.verdicts == {"SSE-001": "error", "LIFE-001": "passed", "LIFE-005": "passed"}
    assert "no complete answer within 1 s (--request-deadline)" in outcome.summary("SSE-001")
    assert outcome.code == 3
    assert behaviour.hits >= 1
    assert len(app.store) == 0
    # the evidence ends with the cut exchange, and what arrived of it
    (sse,) = (c for c in outcome.clauses if c["id"] == "SSE-001")
    last = sse["evidence"][-1]
    assert last["response"]["status"] == 200
    assert last["response"]["truncated"] is True
    assert "data: " in last["response"]["body"]["text"]
    assert "--request-deadline" in last["transport_error"]


def test_a_content_length_longer_than_the_body(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve(WrongLength(extra=10))
    outcome = check(server.url, tmp_path, capsys)
    _all_error(outcome, "no usable answer from the target")
    assert "without sending complete message body" in outcome.summary("LIFE-001")


def test_a_target_that_dies_in_the_middle_of_the_run(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What was decided before the crash stands; nothing is failed for it; what is left
    is not even tried once the target is seen to be gone."""
    server = serve(DiesAfter(150))
    outcome = check(server.url, tmp_path, capsys)
    verdicts = list(outcome.verdicts.values())
    assert outcome.code == 3
    assert "failed" not in verdicts
    assert verdicts.count("passed") >= 5
    assert verdicts.count("error") >= 20
    gone = [note for note in outcome.report["notes"] if "stopped answering" in note]  # type: ignore[attr-defined]
    assert len(gone) == 1, outcome.report["notes"]
    assert server.requests < 170  # after the crash: the preflight again, then nothing


# -- answers that cost far more to read than to send: bombs and floods (issue 14) ---------

#: The most memory one run may take, whatever the target sends.
PEAK_RSS_MIB = 300


def check_measured(url: str, tmp_path: Path, *extra: str) -> tuple[Outcome, float]:
    """``check URL`` with small bounds in a subprocess of its own, and its peak RSS in
    MiB (its own, :mod:`tests.peak`); the common promises of :func:`check` hold, and the
    peak stays under :data:`PEAK_RSS_MIB`."""
    path, out, err = tmp_path / "report.json", tmp_path / "stdout", tmp_path / "stderr"
    command = [sys.executable, "-m", "conformance.cli", "check", url, *SMALL,
               "--report-json", str(path), *extra]  # fmt: skip
    inherited = parent_high_water_kib()
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, cwd=ROOT)
    started = time.monotonic()
    try:  # a hang: fail, never wait forever
        _, peak_kib = wait_measured(process, inherited, give_up_after=DEADLINE + 60)
    except TimeoutError:
        pytest.fail(f"the run did not end: {command}")
    seconds = time.monotonic() - started
    console = out.read_text(encoding="utf-8") + err.read_text(encoding="utf-8")
    outcome = Outcome(process.returncode, _valid_report(path), console, seconds)
    peak = peak_kib / 1024
    assert seconds < DEADLINE + CLEANUP_OVERTIME, seconds
    assert "Traceback" not in console, console
    assert peak < PEAK_RSS_MIB, f"peak RSS {peak:.0f} MiB"
    return outcome, peak


def _bombs() -> list[object]:
    no_brotli = pytest.mark.skipif(brotli_module() is None, reason="brotli is not installed")
    return [
        pytest.param(("gzip", "gzip"), True, id="gzip-gzip"),
        pytest.param(("gzip", "gzip"), False, id="gzip-gzip-chunked"),
        pytest.param(("deflate", "deflate"), True, id="deflate-deflate"),
        pytest.param(("gzip",), True, id="gzip"),
        pytest.param(("br",), True, id="br", marks=no_brotli),
    ]


@pytest.mark.parametrize(("codings", "declared"), _bombs())
def test_a_compression_bomb_is_decoded_no_further_than_the_cap(
    codings: tuple[str, ...], declared: bool, serve: type[HostileServer], tmp_path: Path
) -> None:
    """A few KB that decode to 1 GiB (two layers: 64 KiB of the first are 64 MiB of the
    second): decoding stops at --max-response-bytes, in whichever layer crosses it."""
    behaviour = CompressionBomb(*codings, declared=declared)
    server = serve(behaviour)
    outcome, _ = check_measured(server.url, tmp_path)
    _all_error(outcome, "with more than 4194304 bytes once decoded (")
    assert behaviour.wire < 1024 * 1024 * 1.1  # a bomb indeed: small on the wire


def test_a_bomb_on_one_route_costs_only_its_clauses(
    serve: type[HostileServer], tmp_path: Path
) -> None:
    app = _reference()
    server = serve(CompressionBomb("gzip", "gzip", when=on_paths("/status")), app=app)
    outcome, _ = check_measured(server.url, tmp_path, "--clause", "POLL-001", "LIFE-001", "ID-001")
    assert outcome.verdicts == {"POLL-001": "error", "LIFE-001": "passed", "ID-001": "passed"}
    assert "once decoded (gzip) (--max-response-bytes)" in outcome.summary("POLL-001")
    assert outcome.code == 3
    assert len(app.store) == 0


@pytest.mark.parametrize(
    ("flood", "reason"),
    [
        (HeaderFlood(), "headers (more than 128, --max-response-headers)"),
        (HeaderFlood(4, value_bytes=24 * 1024), "bytes of headers (more than 65536, "),
    ],
    ids=["10000-headers", "96-KiB-of-headers"],
)
def test_a_header_flood_is_an_error_and_costs_no_memory(
    flood: HeaderFlood, reason: str, serve: type[HostileServer], tmp_path: Path
) -> None:
    server = serve(flood)
    outcome, _ = check_measured(server.url, tmp_path)
    _all_error(outcome, reason)


def test_a_flood_on_one_route_costs_only_its_clauses_and_the_log_stays_small(
    serve: type[HostileServer], tmp_path: Path
) -> None:
    app = _reference()
    server = serve(HeaderFlood(when=on_paths("/status")), app=app)
    log = tmp_path / "exchanges.jsonl"
    outcome, _ = check_measured(
        server.url, tmp_path, "--record-exchanges", str(log),
        "--clause", "POLL-001", "LIFE-001", "ID-001",
    )  # fmt: skip
    assert outcome.verdicts == {"POLL-001": "error", "LIFE-001": "passed", "ID-001": "passed"}
    assert "(more than 128, --max-response-headers)" in outcome.summary("POLL-001")
    assert outcome.code == 3
    (poll,) = (c for c in outcome.clauses if c["id"] == "POLL-001")
    flooded = poll["evidence"][-1]["response"]  # the evidence keeps the first 128 only
    assert flooded["truncated"] is True
    assert len(flooded["headers"]) == Limits().max_response_headers
    assert len(app.store) == 0
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == server.requests
    assert max(len(line) for line in lines) < 16 * 1024


# -- answered, but wrongly ----------------------------------------------------------------


@pytest.mark.parametrize("behaviour", [InvalidUTF8, InvalidJSON], ids=["utf-8", "json"])
def test_bodies_that_are_not_json_fail_the_clauses_that_read_them(
    behaviour: type[Behaviour],
    serve: type[HostileServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whole answers, application/json, that a strict reader cannot parse: the clauses
    about bodies fail, those that need a usable create cannot decide, and a clause about
    status codes alone still passes."""
    server = serve(behaviour())
    outcome = check(
        server.url, tmp_path, capsys, "--clause", "LIFE-003", "ERR-001", "POLL-001", "VAL-006"
    )
    assert outcome.verdicts == {
        "LIFE-003": "failed",
        "ERR-001": "failed",
        "POLL-001": "error",
        "VAL-006": "passed",
    }
    assert "not JSON" in outcome.summary("LIFE-003")
    assert "no usable session id" in outcome.summary("POLL-001")
    assert outcome.code == 1


# -- redirects ----------------------------------------------------------------------------


def test_a_redirect_loop_is_not_followed(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve(RedirectLoop())
    outcome = check(server.url, tmp_path, capsys)
    _all_error(outcome, "the target redirects")
    assert server.requests == 1


def test_a_redirect_to_another_host_sends_nothing_there(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = serve(Conformant())
    server = serve(RedirectAway(elsewhere.url))
    outcome = check(server.url, tmp_path, capsys, "--token", "secret-token-4d1c")
    _all_error(outcome, f"to {elsewhere.url}/users/sc-preflight/sessions")
    assert elsewhere.connections == 0  # not a request, and not the token
    assert "secret-token-4d1c" not in json.dumps(outcome.report) + outcome.console


# -- valid, if unusual --------------------------------------------------------------------


def test_http_1_0_and_a_connection_per_request_is_no_fault(
    serve: type[HostileServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve(Http10())
    # This server shares the process (and its GIL) with the harness's lanes: on a busy
    # machine its answers take seconds, which is no fault of HTTP/1.0 (the bounds are
    # tested elsewhere).
    outcome = check(server.url, tmp_path, capsys, "--timeout", "20", "--request-deadline", "30")
    assert outcome.code == 0, outcome.console
    assert set(outcome.verdicts.values()) <= {"passed", "not_applicable"}
    assert server.connections == server.requests > 100


def test_thirty_seconds_to_provision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --ready-timeout 1: POLL-006 fails (no final phase in time), the clauses that
    need a Ready session cannot decide, the others are decided, no session is left."""
    with slow_provisioning() as server:
        outcome = check(
            server.url, tmp_path, capsys, "--ready-timeout", "1",
            "--clause", "LIFE-001", "LIFE-005", "POLL-001", "POLL-006", "SSE-001",
        )  # fmt: skip
        left = len(server.app.store)  # type: ignore[attr-defined]
    assert outcome.verdicts == {
        "LIFE-001": "passed",
        "LIFE-005": "error",
        "POLL-001": "error",
        "POLL-006": "failed",
        "SSE-001": "error",
    }
    assert "did not become Ready within 1s" in outcome.summary("LIFE-005")
    assert "see POLL-006" in outcome.summary("POLL-001")
    assert outcome.code == 1
    assert left == 0


def test_the_run_deadline_stops_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """LIFE-001 is decided before the 2 s deadline; LIFE-005's wait for a Ready session
    (up to 30 s) is cut at it; the clauses left are not started, and say so; the session
    made before the deadline is deleted after it."""
    with slow_provisioning() as server:
        outcome = check(
            server.url, tmp_path, capsys, "--ready-timeout", "30", "--deadline", "2",
            "--clause", "LIFE-001", "LIFE-005", "POLL-006", "SSE-001",
            "--workers", "1",  # one after another: one clause is cut, the next not started
        )  # fmt: skip
        left = len(server.app.store)  # type: ignore[attr-defined]
    assert outcome.verdicts == {
        "LIFE-001": "passed",
        "LIFE-005": "error",
        "POLL-006": "error",
        "SSE-001": "error",
    }
    assert "the run's deadline (--deadline) passed" in outcome.summary("LIFE-005")
    for late in ("POLL-006", "SSE-001"):
        assert "deadline of 2 s (--deadline) had passed" in outcome.summary(late)
    assert "2 of 4 clauses were not started" in outcome.console
    assert outcome.code == 3
    assert outcome.seconds < 2 + CLEANUP_OVERTIME
    assert left == 0


# -- interrupted: Ctrl-C and SIGTERM ------------------------------------------------------


@pytest.fixture
def cli() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Starts the real CLI's ``check``; whatever the test's outcome, no process outlives it."""
    started: list[subprocess.Popen[str]] = []

    def start(url: str, report: Path, *extra: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "conformance.cli", "check", url, "--seed", "3",
             "--max-examples", "2", "--report-json", str(report), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _wait(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_a_hung_request_leaves_a_report_and_no_session(
    signum: signal.Signals,
    serve: type[HostileServer],
    cli: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    """The real CLI, stuck in a run that will never be answered (read timeout 60 s): the
    signal ends it at once, with a valid report of what was decided, and the session
    the clause under way created is deleted."""
    app = _reference()
    behaviour = Silent(when=on_paths("/run"))
    server = serve(behaviour, app=app)
    path = tmp_path / "report.json"
    process = cli(server.url, path, "--timeout", "60", "--clause", "LIFE-004", "LIFE-005")
    _wait(lambda: behaviour.hits >= 1, "the run to hang")
    # LIFE-005's session, Ready, its run unanswered; LIFE-004's lane may hold its own
    assert len(app.store) >= 1
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err
    report = _valid_report(path)
    assert any(note.startswith("interrupted") for note in report["notes"])  # type: ignore[attr-defined]
    clauses = {c["id"]: c for c in report["clauses"]}  # type: ignore[attr-defined]
    # LIFE-005's run hung: cut short, it is undecided and says why; LIFE-004, in a lane of
    # its own, was decided or cut short too.
    assert clauses["LIFE-005"]["verdict"] == "error"
    assert "the run was interrupted" in clauses["LIFE-005"]["summary"]
    assert set(clauses) <= {"LIFE-004", "LIFE-005"}
    assert len(app.store) == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_before_the_first_answer_still_leaves_a_report(
    signum: signal.Signals,
    serve: type[HostileServer],
    cli: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    behaviour = Silent()
    server = serve(behaviour)
    path = tmp_path / "report.json"
    process = cli(server.url, path, "--timeout", "60")
    _wait(lambda: behaviour.hits >= 1, "the preflight to hang")
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err
    report = _valid_report(path)
    assert report["clauses"] == []
    notes = report["notes"]
    assert isinstance(notes, list)
    assert any(note.startswith("interrupted: 0 of") for note in notes), notes


def test_an_interrupt_while_a_result_is_handled_still_ends_in_a_report() -> None:
    """Ctrl-C may land in the consumer (printing a clause) rather than in the runner;
    thrown back into the runner, it still yields the report of what was decided."""
    with Target(app=_reference()) as target:
        events = run(target, Settings(seed=1, max_examples=2), clause_ids=["LIFE-001", "LIFE-002"])
        first = next(e for e in events if isinstance(e, ClauseFinished))
        finished = events.throw(KeyboardInterrupt())
    assert isinstance(finished, RunFinished)
    results = finished.report.results
    assert first.result in results
    # The other clause ran in a lane of its own: decided before the interrupt, or cut
    # short by it (undecided, saying so).
    others = [r for r in results if r is not first.result]
    assert all(r.verdict is Verdict.PASSED or "interrupted" in r.summary for r in others)
    decided = sum(r.verdict is not Verdict.ERROR for r in results)
    assert finished.report.notes == (f"interrupted: {decided} of 2 clauses decided",)
    assert finished.report.interrupted


def test_a_signal_while_the_reports_are_written_waits_for_them() -> None:
    with interruption.installed(), interruption.acting(), interruption.held():
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # still here: both were held back
        assert interruption.arrived() == (signal.SIGTERM, signal.SIGINT)


# -- bounds that live below the command line ----------------------------------------------


def test_an_in_process_app_that_never_answers_is_bounded_too() -> None:
    async def hang(scope: object, receive: object, send: object) -> None:
        import asyncio

        await asyncio.Event().wait()

    limits = Limits(request_deadline=0.3)
    with Target(app=hang, limits=limits) as target:
        started = time.monotonic()
        with pytest.raises(ExchangeTooLong, match=r"within 0\.3 s"):
            target.send("GET", "/users/u/sessions")
        assert time.monotonic() - started < 5
        (exchange,) = target.since(0)
    assert exchange.response is None
    assert exchange.transport_error


def test_no_request_leaves_the_target() -> None:
    with Target("http://127.0.0.1:9") as target:
        with pytest.raises(ValueError, match="not on the target"):
            target.send("GET", "@elsewhere.example/users/u/sessions")
        assert target.since(0) == ()


def test_a_reason_never_shows_a_secret() -> None:
    with Refusing() as refusing:
        url = refusing.url.replace("http://", "http://ci:hunter2-pass@")
        with Target(url) as target, pytest.raises(TargetError) as caught:
            target.send("GET", "/users/u/sessions?p=hunter2-pass")
        with (
            Target(refusing.url, token="tok-5e1f09aa") as target,
            pytest.raises(TargetError) as by_token,
        ):
            target.send("GET", "/users/u/sessions?t=tok-5e1f09aa")
    assert "hunter2-pass" not in str(caught.value)
    assert "${SESSION_CONFORMANCE_USERINFO}@127.0.0.1" in str(caught.value)
    assert "tok-5e1f09aa" not in str(by_token.value)
    assert "[REDACTED]" in str(caught.value)
    assert "[REDACTED]" in str(by_token.value)
    with pytest.raises(ValueError, match="give one of them"):  # both go in Authorization
        Target(url, token="tok-5e1f09aa")


def test_bad_bounds_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for flag, value in [("--deadline", "0"), ("--request-deadline", "-1"),
                        ("--max-response-bytes", "0"), ("--deadline", "soon"),
                        ("--max-response-headers", "0"), ("--max-header-bytes", "-5")]:  # fmt: skip
        assert main(["check", "http://127.0.0.1:9", flag, value]) == 2
        out, err = capsys.readouterr()
        assert flag in err
        assert "Traceback" not in out + err


# -- clean-up: what the harness made, and nothing else ------------------------------------


def test_a_full_run_leaves_no_session_and_never_touches_anyone_elses() -> None:
    app = ReferenceApp(ReferenceConfig(provision_seconds=0.05))
    with Target(app=app) as target:
        alice = ContractClient(target).create("alice", {}).body_json()
        assert isinstance(alice, dict)
        mine = alice["session_id"]
        assert isinstance(mine, str)
        before = app.store.get("alice", mine)
        mark = target.mark()
        events = list(run(target, Settings(seed=5, max_examples=3)))
        sent = target.since(mark)
    report = events[-1]
    assert isinstance(report, RunFinished)
    assert {r.verdict.value for r in report.report.results} == {"passed", "not_applicable"}
    assert app.store.get("alice", mine) == before  # not run, not deleted, not changed
    assert len(app.store) == 1
    for exchange in sent:
        seen = exchange.request.url + exchange.request.body.decode("utf-8", "replace")
        assert mine not in seen
        assert "/users/alice/" not in seen


def test_clean_up_deletes_sessions_a_check_made_but_did_not_track() -> None:
    """A create a check never expected to succeed (a probe the target should refuse, a
    create in a thread whose sibling failed) is deleted all the same, if it was made for
    a user id of the harness's; a session of any other user is left alone."""
    app = _reference()
    with Target(app=app) as target:
        client = ContractClient(target)
        (clause,) = select(["LIFE-001"])
        ctx = CheckContext(clause, client, Settings(), seed=1)
        ours = ctx.new_user()
        client.create(ours, {})
        client.create(ours, {})
        client.create("bob", {})  # e.g. a user id a check borrowed
        tracked = ctx.create(ctx.new_user())
        ctx.cleanup()
    assert [s.user_id for s in app.list_sessions("bob")] == ["bob"]
    assert app.list_sessions(ours) == []
    assert app.list_sessions(tracked.user_id) == []
    assert len(app.store) == 1
