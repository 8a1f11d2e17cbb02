"""The recording mock: it is the reference (strict), it records every exchange as the
trace schema says, and its adversarial modes do what the README promises."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.contract import load_document, specs_dir
from conformance.mock.modes import MockPlan, ModeError, parse_modes
from conformance.mock.server import RunningMock, start_mock
from conformance.mock.trace import TraceError, read_trace
from conformance.records import Verdict
from conformance.runner import run_clause, select
from conformance.target import Target

pytestmark = pytest.mark.socket

ORIGIN = "https://app.example"
TOKEN = "mock-token-5d2e9a1b"
BINARY = b"\xff\xfe not utf-8"


@pytest.fixture
def mock(tmp_path: Path) -> Iterator[RunningMock]:
    with start_mock(tmp_path / "trace.jsonl", MockPlan(cors_origin=ORIGIN)) as running:
        yield running


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def create(http: httpx.Client, user: str = "u1") -> str:
    response = http.post(f"/users/{user}/sessions", json={})
    assert response.status_code == 201, response.text
    return str(response.json()["session_id"])


# -- recording --------------------------------------------------------------------------------


def test_every_line_of_a_trace_matches_the_trace_schema(mock: RunningMock) -> None:
    schema = load_document(specs_dir() / "trace.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    with httpx.Client(base_url=mock.url) as http:
        sid = create(http)
        http.get(f"/users/u1/sessions/{sid}/status", headers={"Origin": ORIGIN})
        http.post("/run", content=BINARY, headers={"Content-Type": "text/plain"})
        http.options("/run", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    recorded = lines(mock.trace_path)
    assert [line["kind"] for line in recorded] == ["header"] + ["exchange"] * 4
    for line in recorded:
        jsonschema.Draft202012Validator(schema).validate(line)
    header = recorded[0]
    assert header["base_url"] == mock.url
    assert header["layout"] == "canonical"
    assert header["modes"] == []
    binary = recorded[3]["request"]["body"]  # type: ignore[index]
    assert binary["encoding"] == "base64"
    assert binary["bytes"] == len(BINARY)


def test_each_exchange_is_recorded_with_its_request_response_and_times(
    mock: RunningMock,
) -> None:
    with httpx.Client(base_url=mock.url) as http:
        sid = create(http)
        time.sleep(0.2)
        http.get(f"/users/u1/sessions/{sid}/status?x=1", headers={"X-Session-ID": sid})
    first, second = mock.trace().exchanges
    assert first.request.method == "POST"
    assert first.request.url == f"{mock.url}/users/u1/sessions"
    assert first.request.body == b"{}"
    assert first.response is not None
    assert first.response.status == 201
    assert json.loads(first.response.body)["session_id"] == sid
    assert second.request.url == f"{mock.url}/users/u1/sessions/{sid}/status?x=1"
    assert second.request.header("x-session-id") == sid
    assert 0 <= first.started <= first.ended < second.started <= second.ended
    # The client slept 200 ms between the answer and its next request: the trace says so.
    assert 0.2 <= second.started - first.ended < 1.0
    assert first.client is not None
    assert first.client.startswith("127.0.0.1:")
    assert (first.seq, second.seq) == (0, 1)


def test_the_trace_never_holds_the_token(tmp_path: Path) -> None:
    with start_mock(tmp_path / "t.jsonl", MockPlan(token=TOKEN)) as running:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=running.url, headers=headers) as http:
            create(http)
            http.post("/users/u1/sessions", json={"metadata": {"echo": TOKEN}})
        text = running.trace_path.read_text(encoding="utf-8")
    assert TOKEN not in text
    assert "[REDACTED]" in text


def test_the_path_is_recorded_as_sent_still_percent_encoded(mock: RunningMock) -> None:
    with httpx.Client(base_url=mock.url) as http:
        http.get("/users/u1/sessions/%5Bobject%20Object%5D/status")
    (item,) = mock.trace().exchanges
    assert item.request.url.endswith("/sessions/%5Bobject%20Object%5D/status")
    assert item.response is not None
    assert item.response.status == 400


# -- the mock is the strict reference ---------------------------------------------------------

REFERENCE_CLAUSES = [
    c.id for c in select(None) if c.family in ("lifecycle", "sentinels", "polling", "cors")
]


@pytest.mark.parametrize("clause_id", REFERENCE_CLAUSES)
def test_the_mock_without_modes_passes_the_server_clauses(
    mock: RunningMock, clause_id: str
) -> None:
    """The mock is the reference: strict where the contract is (a sentinel is a 400, a
    run before ready a 409), with nothing of its own on top when no mode is on."""
    (clause,) = select([clause_id])
    settings = Settings(seed=3, cors_origin=ORIGIN, max_examples=5)
    with Target(mock.url) as target:
        result = run_clause(clause, ContractClient(target), settings)
    assert result.verdict is Verdict.PASSED, result.summary


# -- adversarial modes ------------------------------------------------------------------------


def test_create_5xx_fails_the_first_create_once_and_creates_nothing(tmp_path: Path) -> None:
    with start_mock(tmp_path / "t.jsonl", MockPlan(modes=("create-5xx",))) as running:
        with httpx.Client(base_url=running.url) as http:
            failed = http.post("/users/u1/sessions", json={})
            assert failed.status_code == 500
            assert failed.json()["error"] == "INTERNAL_ERROR"
            assert http.get("/users/u1/sessions").json()["sessions"] == []
            create(http)
            create(http)
        injected = [item.injected for item in running.trace().exchanges]
    assert injected == ["create-5xx", None, None, None]


def test_status_503_answers_each_sessions_first_poll_with_retry_after(tmp_path: Path) -> None:
    plan = MockPlan(modes=("status-503",), retry_after_seconds=2, cors_origin=ORIGIN)
    with start_mock(tmp_path / "t.jsonl", plan) as running:
        with httpx.Client(base_url=running.url, headers={"Origin": ORIGIN}) as http:
            one, two = create(http), create(http)
            busy = http.get(f"/users/u1/sessions/{one}/status")
            assert busy.status_code == 503
            assert busy.headers["retry-after"] == "2"
            assert busy.json()["ok"] is False
            # A browser script may read Retry-After only if CORS exposes it.
            assert "Retry-After" in busy.headers["access-control-expose-headers"]
            assert http.get(f"/users/u1/sessions/{one}/status").status_code == 200
            assert http.get(f"/users/u1/sessions/{two}/status").status_code == 503
            # A lost id is still the contract's 400, never a 503.
            assert http.get("/users/u1/sessions/undefined/status").status_code == 400
        trace = running.trace()
    assert [i.injected for i in trace.exchanges] == [
        None,
        None,
        "status-503",
        None,
        "status-503",
        None,
    ]
    assert trace.header.setting("retry_after_seconds") == 2


def test_fail_ends_every_session_failed_half_way(tmp_path: Path) -> None:
    # Half of 2 s: the first status, sent at once, comes well before the failure even on a
    # loaded machine; then it waits for the failure (polls), never for a sleep to be long
    # enough.
    plan = MockPlan(modes=("fail",), provision_seconds=2.0)
    with start_mock(tmp_path / "t.jsonl", plan) as m, httpx.Client(base_url=m.url) as http:
        sid = create(http)
        early = http.get(f"/users/u1/sessions/{sid}/status").json()
        late = early
        while late["phase"] != "Failed":
            time.sleep(0.05)
            late = http.get(f"/users/u1/sessions/{sid}/status").json()
        run = http.post(
            "/run",
            json={
                "user_id": "u1",
                "session_id": sid,
                "new_message": {"role": "user", "parts": [{"text": "hi"}]},
            },
        )
        got = http.get(f"/users/u1/sessions/{sid}").json()["session"]
    assert early["phase"] in ("Starting", "Provisioning")
    assert late["phase"] == "Failed"
    assert late["ready"] is False
    assert late["error"]["code"] == "PROVISIONING_FAILED"
    # Failed half way: the percent reached then (49 or 50, as floats fall), no ETA.
    assert late["progress"]["percent"] in (49, 50)
    assert late["progress"]["eta_ms"] is None
    assert run.status_code == 409
    assert run.json()["error"] == "SESSION_NOT_READY"
    assert got["phase"] == "Failed"


def test_slow_provisions_for_seconds_through_many_progress_steps(tmp_path: Path) -> None:
    assert MockPlan(modes=("slow",)).provisioning == 3.0
    plan = MockPlan(modes=("slow",), provision_seconds=1.2)
    seen: list[tuple[str, int]] = []
    with (
        start_mock(tmp_path / "t.jsonl", plan) as running,
        httpx.Client(base_url=running.url) as http,
    ):
        sid = create(http)
        while not seen or seen[-1][0] != "Ready":
            status = http.get(f"/users/u1/sessions/{sid}/status").json()
            seen.append((status["phase"], status["progress"]["percent"]))
            time.sleep(0.02)  # many polls in 1.2 s, even when each answer is slow
    phases = [phase for phase, _ in seen]
    assert phases[0] == "Starting"
    assert "Provisioning" in phases
    assert len({percent for _, percent in seen}) >= 5
    assert [p for _, p in seen] == sorted(p for _, p in seen)


def test_the_preflight_allows_the_deadline_header(mock: RunningMock) -> None:
    response = httpx.options(
        f"{mock.url}/users/u1/sessions",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert "X-Client-Deadline-Ms" in response.headers["access-control-allow-headers"]


def test_latency_delays_every_answer(tmp_path: Path) -> None:
    with start_mock(tmp_path / "t.jsonl", MockPlan(latency_seconds=0.15)) as running:
        httpx.get(f"{running.url}/users/u1/sessions")
        (item,) = running.trace().exchanges
    assert item.ended - item.started >= 0.15


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["slow"], ("slow",)),
        (["fail,slow", "status-503"], ("slow", "status-503", "fail")),
        (["Create-5XX"], ("create-5xx",)),
        ([], ()),
    ],
)
def test_modes_parse_in_the_documented_order(values: list[str], expected: tuple[str, ...]) -> None:
    assert parse_modes(values) == expected


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (lambda: MockPlan(modes=("sloow",)), "unknown mode"),
        (lambda: MockPlan(retry_after_seconds=0), "whole number >= 1"),
        (lambda: MockPlan(modes=("fail",), provision_seconds=0), "needs provisioning time"),
        (lambda: MockPlan(latency_seconds=-1), "latency_seconds"),
    ],
)
def test_a_plan_that_cannot_work_is_refused(plan: object, message: str) -> None:
    with pytest.raises(ModeError, match=message):
        plan()  # type: ignore[operator]


# -- reading traces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty: no header line"),
        ("not json\n", r":1: not a JSON object"),
        ('{"kind": "exchange"}\n', r":1: not a trace line"),
        ("{HEADER}\n{HEADER}\n", r":2: a header line may only come first"),
        ("{HEADER}\n[1, 2]\n", r":2: not a trace line"),
    ],
)
def test_a_malformed_trace_names_the_line(
    mock: RunningMock, tmp_path: Path, content: str, message: str
) -> None:
    header = mock.trace_path.read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "bad.jsonl"
    path.write_text(content.replace("{HEADER}", header), encoding="utf-8")
    with pytest.raises(TraceError, match=message):
        read_trace(path)


def test_a_missing_trace_is_one_readable_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such file"):
        read_trace(tmp_path / "nowhere.jsonl")


# -- the command ------------------------------------------------------------------------------


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_the_mock_command_serves_records_and_stops_cleanly(
    tmp_path: Path, stop: signal.Signals
) -> None:
    trace = tmp_path / "trace.jsonl"
    command = [
        sys.executable, "-m", "conformance.cli", "mock", "--port", "0", "--record", str(trace),
        "--mode", "status-503", "--provision-seconds", "0",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        announced = process.stdout.readline()
        assert "mock on http://127.0.0.1:" in announced, announced
        url = announced.split("mock on ", 1)[1].split(",", 1)[0]
        with httpx.Client(base_url=url) as http:
            sid = create(http)
            assert http.get(f"/users/u1/sessions/{sid}/status").status_code == 503
    finally:
        process.send_signal(stop)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    recorded = read_trace(trace)
    assert recorded.header.modes == ("status-503",)
    assert [i.injected for i in recorded.exchanges] == [None, "status-503"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "sloow"], "unknown mode(s) sloow"),
        (["--port", "70000"], "port number"),
        (["--mode", "fail", "--provision-seconds", "0"], "needs provisioning time"),
    ],
)
def test_bad_mock_arguments_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    command = [sys.executable, "-m", "conformance.cli", "mock", "--record", str(tmp_path / "t")]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
