"""verify-client: every bad client is flagged by exactly the clauses it breaks, the good
client is clean in every mode, and the verdicts, reports and exit codes are check's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import jsonschema
import pytest

from conformance.cli import main
from conformance.client_checks.context import ClientSettings
from conformance.client_checks.verifier import verify
from conformance.contract import report_schema
from conformance.mock.modes import MockPlan
from conformance.mock.server import start_mock
from conformance.mock.trace import Trace
from conformance.records import ClauseResult, Verdict
from conformance.registry import registry
from conformance.runner import ClauseFinished
from fixtures.clients.python_clients import BAD_CLIENTS, GoodClient

pytestmark = pytest.mark.socket

ROOT = Path(__file__).resolve().parent.parent
CLIENT_CLAUSES = [clause.id for clause in registry().of_subject("client")]


def record(tmp_path: Path, client: type[GoodClient], plan: MockPlan, **options: float) -> Trace:
    with start_mock(tmp_path / f"{client.__name__}.jsonl", plan) as mock:
        actor = client(mock.url, **options)  # type: ignore[arg-type]
        try:
            actor.converse()
        finally:
            actor.close()
    return mock.trace()


def results(trace: Trace, settings: ClientSettings | None = None) -> dict[str, ClauseResult]:
    return {
        event.result.clause_id: event.result
        for event in verify(trace, settings)
        if isinstance(event, ClauseFinished)
    }


def verdicts(found: dict[str, ClauseResult], verdict: Verdict) -> set[str]:
    return {cid for cid, result in found.items() if result.verdict is verdict}


def explain(found: dict[str, ClauseResult]) -> str:
    return "\n".join(f"{r.clause_id} {r.verdict.value}: {r.summary}" for r in found.values())


# -- the good client --------------------------------------------------------------------------

GOOD_RUNS = {
    # mode(s) -> (plan, deadline, clauses the mode must make applicable and passed)
    "strict": (MockPlan(), 20.0, {"CLIENT-001", "CLIENT-002", "CLIENT-003", "CLIENT-004"}),
    "slow": (MockPlan(modes=("slow",)), 20.0, {"CLIENT-005", "CLIENT-007", "CLIENT-010"}),
    "create-5xx": (MockPlan(modes=("create-5xx",)), 20.0, {"CLIENT-012", "CLIENT-011"}),
    "status-503": (MockPlan(modes=("status-503",)), 20.0, {"CLIENT-006", "CLIENT-008"}),
    "fail": (MockPlan(modes=("fail",)), 20.0, {"CLIENT-007", "CLIENT-011"}),
    "deadline": (MockPlan(modes=("slow",), provision_seconds=2.0), 0.8, {"CLIENT-009"}),
    "all": (
        MockPlan(modes=("slow", "create-5xx", "status-503", "fail")),
        20.0,
        {"CLIENT-006", "CLIENT-012", "CLIENT-007"},
    ),
}


@pytest.mark.parametrize("mode", GOOD_RUNS)
def test_the_good_client_is_clean_in_every_mode(tmp_path: Path, mode: str) -> None:
    plan, deadline, exercised = GOOD_RUNS[mode]
    found = results(record(tmp_path, GoodClient, plan, deadline=deadline))
    assert verdicts(found, Verdict.FAILED) == set(), explain(found)
    assert verdicts(found, Verdict.ERROR) == set(), explain(found)
    assert exercised <= verdicts(found, Verdict.PASSED), explain(found)


# -- the bad clients --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "client", BAD_CLIENTS, ids=[f"{'+'.join(c.breaks)}-{c.__name__}" for c in BAD_CLIENTS]
)
def test_each_bad_client_is_flagged_by_the_clauses_it_breaks_and_no_other(
    tmp_path: Path, client: type[GoodClient]
) -> None:
    found = results(record(tmp_path, client, client.plan))
    assert verdicts(found, Verdict.FAILED) == set(client.breaks), explain(found)
    assert verdicts(found, Verdict.ERROR) == set(), explain(found)
    for clause_id in client.breaks:
        finding = found[clause_id].findings[0]
        assert finding.exchange is not None, "a finding shows the request the client sent"
        assert finding.expected


def test_every_client_clause_has_a_bad_client_that_breaks_it() -> None:
    broken = {clause_id for client in BAD_CLIENTS for clause_id in client.breaks}
    assert set(CLIENT_CLAUSES) - broken == set()


# -- CLIENT-001: every place an id travels ----------------------------------------------------


def lost_id_trace(tmp_path: Path, send: list[tuple[str, str, dict[str, object]]]) -> Trace:
    with (
        start_mock(tmp_path / "t.jsonl", MockPlan()) as mock,
        httpx.Client(base_url=mock.url) as http,
    ):
        for method, path, kwargs in send:
            http.request(method, path, **kwargs)  # type: ignore[arg-type]
    return mock.trace()


RUN = {"role": "user", "parts": [{"text": "hi"}]}
LOST_IDS = {
    "path": ("GET", "/users/u/sessions/undefined/status", {}),
    "path-empty": ("GET", "/users/u/sessions//status", {}),
    "path-user": ("GET", "/users/null/sessions", {}),
    "path-unknown-route": ("GET", "/session/NaN/status", {}),
    "query": ("GET", "/session/status?id=undefined", {}),
    "query-camel": ("GET", "/users/u/sessions?sessionId=", {}),
    "header": ("GET", "/users/u/sessions", {"headers": {"X-Session-ID": "[object Object]"}}),
    "body": ("POST", "/run", {"json": {"user_id": "u", "session_id": " None ", "new_message": RUN}}),
    "body-null": ("POST", "/run", {"json": {"user_id": "u", "session_id": None, "new_message": RUN}}),
    "body-nested": ("POST", "/users/u/sessions", {"json": {"context": {"threadId": "nil"}}}),
}  # fmt: skip


@pytest.mark.parametrize("place", LOST_IDS)
def test_client_001_finds_a_lost_id_wherever_it_travels(tmp_path: Path, place: str) -> None:
    found = results(lost_id_trace(tmp_path, [LOST_IDS[place]]))
    result = found["CLIENT-001"]
    assert result.verdict is Verdict.FAILED, result.summary
    assert "sends a lost id" in result.summary


def test_client_001_does_not_mistake_user_data_for_ids(tmp_path: Path) -> None:
    words = {"role": "user", "parts": [{"text": "undefined"}, {"text": "null"}]}
    trace = lost_id_trace(
        tmp_path,
        [
            ("POST", "/users/u/sessions", {"json": {"metadata": {"parent_id": None, "id": ""}}}),
            ("GET", "/users/u/sessions/nonexistent/status", {}),
            ("GET", "/users/u/sessions?page=null", {"headers": {"X-Request-Id": "r-1"}}),
            ("POST", "/run", {"json": {"user_id": "u", "session_id": "abc", "new_message": words}}),
        ],
    )
    result = results(trace)["CLIENT-001"]
    assert result.verdict is Verdict.PASSED, result.summary


# -- CLIENT-002: before its create returned, after its delete ---------------------------------


def test_client_002_catches_a_poll_sent_before_the_create_answered(tmp_path: Path) -> None:
    """An optimistic front end: it picks its own id and polls it while the create is
    still in flight (the mock answers in 300 ms)."""
    plan = MockPlan(latency_seconds=0.3)
    with start_mock(tmp_path / "t.jsonl", plan) as mock, httpx.Client(base_url=mock.url) as http:
        creating = threading.Thread(
            target=http.post,
            args=("/users/u/sessions",),
            kwargs={"json": {"session_id": "mine"}},
        )
        creating.start()
        time.sleep(0.1)
        http.get("/users/u/sessions/mine/status")
        creating.join()
        http.delete("/users/u/sessions/mine")
        http.get("/users/u/sessions/mine/status")
    result = results(mock.trace())["CLIENT-002"]
    assert result.verdict is Verdict.FAILED
    messages = [finding.message for finding in result.findings]
    assert any("before the create that returns this id had answered" in m for m in messages)
    assert any("after the client deleted the session" in m for m in messages)


def test_client_002_names_another_users_session(tmp_path: Path) -> None:
    with (
        start_mock(tmp_path / "t.jsonl", MockPlan()) as mock,
        httpx.Client(base_url=mock.url) as http,
    ):
        sid = http.post("/users/alice/sessions", json={}).json()["session_id"]
        http.get(f"/users/bob/sessions/{sid}/status")
    result = results(mock.trace())["CLIENT-002"]
    assert result.verdict is Verdict.FAILED
    assert "another user's session" in result.summary


# -- CLIENT-009: the deadline, stated by header or flag ---------------------------------------


def poll_until_ready(tmp_path: Path, headers: dict[str, str]) -> Trace:
    plan = MockPlan(modes=("slow",), provision_seconds=1.2)
    with start_mock(tmp_path / "t.jsonl", plan) as mock, httpx.Client(base_url=mock.url) as http:
        sid = http.post("/users/u/sessions", json={}, headers=headers).json()["session_id"]
        wait = 0.1
        while http.get(f"/users/u/sessions/{sid}/status").json()["phase"] != "Ready":
            time.sleep(wait)
            wait = min(wait * 2, 1.0)
        http.delete(f"/users/u/sessions/{sid}")
    return mock.trace()


def test_client_009_takes_the_deadline_from_the_flag_when_no_header_states_it(
    tmp_path: Path,
) -> None:
    trace = poll_until_ready(tmp_path, {})
    assert results(trace)["CLIENT-009"].verdict is Verdict.NOT_APPLICABLE
    short = results(trace, ClientSettings(deadline_ms=400))["CLIENT-009"]
    assert short.verdict is Verdict.FAILED
    assert "deadline ran out" in short.summary
    long = results(trace, ClientSettings(deadline_ms=10_000))["CLIENT-009"]
    assert long.verdict is Verdict.NOT_APPLICABLE
    assert "within the client's deadline" in long.summary


def test_client_009_a_deadline_header_that_is_not_a_number_is_undecided(tmp_path: Path) -> None:
    trace = poll_until_ready(tmp_path, {"X-Client-Deadline-Ms": "soon"})
    result = results(trace)["CLIENT-009"]
    assert result.verdict is Verdict.ERROR
    assert "'soon'" in result.summary


# -- the command ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from fixtures.clients.python_clients import MadeUpId, NeverDeletes

    folder = tmp_path_factory.mktemp("traces")
    made = {}
    for name, client in (("good", GoodClient), ("made-up", MadeUpId), ("no-delete", NeverDeletes)):
        made[name] = Path(record(folder, client, client.plan).path)
    empty = folder / "empty.jsonl"
    empty.write_text(made["good"].read_text(encoding="utf-8").splitlines()[0] + "\n")
    made["empty"] = empty
    return made


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_client_exits_0_on_the_good_client(
    traces: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "verify-client", str(traces["good"]))
    assert code == 0, out
    assert f"checking the client traffic in {traces['good']}" in out
    for clause_id in CLIENT_CLAUSES:
        assert clause_id in out


def test_verify_client_shows_what_was_sent_expected_and_received(
    traces: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "verify-client", str(traces["made-up"]))
    assert code == 1
    block = out.split("Failures", 1)[1]
    assert "CLIENT-002 [MUST]" in block
    assert "no create ever returned this id: the client made it up" in block
    for label in ("Problem:", "Sent:      POST http://127.0.0.1:", "Expected:", "Received:  404"):
        assert label in block
    assert "Reproduce: curl -sS -i -X POST" in block
    assert (
        f"Replay:    session-conformance verify-client {traces['made-up']} --clause CLIENT-002"
        in block
    )


def test_verify_client_writes_a_report_valid_against_the_report_schema(
    traces: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "report.json"
    code, _, _ = cli(capsys, "verify-client", str(traces["made-up"]), "--report-json", str(path))
    assert code == 1
    report = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    by_id = {clause["id"]: clause for clause in report["clauses"]}
    assert set(by_id) == set(CLIENT_CLAUSES)
    assert by_id["CLIENT-002"]["verdict"] == "failed"
    assert by_id["CLIENT-002"]["findings"][0]["exchange"]["curl"].startswith("curl ")
    assert report["profile"] == "canonical"


def test_a_failed_should_clause_fails_the_run_only_with_strict(
    traces: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(capsys, "verify-client", str(traces["no-delete"]))[0] == 0
    assert cli(capsys, "verify-client", str(traces["no-delete"]), "--strict")[0] == 1


def test_clause_selects_clauses(
    traces: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "verify-client", str(traces["made-up"]), "--clause", "CLIENT-001")
    assert code == 0
    assert "clauses: 1" in out
    assert "CLIENT-002" not in out


def test_an_empty_trace_decides_nothing_and_exits_3(
    traces: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "verify-client", str(traces["empty"]))
    assert code == 3
    assert "the client never reached the mock" in out
    assert "0 passed" in out


def test_a_trace_of_a_layout_it_does_not_know_is_undecided_and_names_the_flag(
    traces: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A proxy trace recorded with a profile file names the file's stem as its layout:
    without --profile, no clause can be judged (exit 3), never passed."""
    lines = traces["good"].read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["layout"] = "our-backend"
    trace = tmp_path / "ours.jsonl"
    trace.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    code, out, _ = cli(capsys, "verify-client", str(trace))
    assert code == 3
    assert "verify-client --profile FILE" in out
    assert "0 passed" in out
    code, out, _ = cli(capsys, "verify-client", str(trace), "--profile", "canonical")
    assert code == 0, out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["verify-client", "{good}", "--clause", "CLIENT-999"],
            2,
            "unknown clause id(s): CLIENT-999",
        ),
        (["verify-client", "{good}", "--clause", "LIFE-001"], 2, "LIFE-001 is not a client clause"),
        (["check", "--clause", "CLIENT-001"], 2, "CLIENT-001 is not a server clause"),
        (["verify-client", "{missing}"], 2, "no such file"),
        (["verify-client", "{garbage}"], 2, ":1: not a JSON object"),
        (["verify-client", "{good}", "--deadline-ms", "-5"], 2, "must be 0 or more"),
        (["verify-client", "{good}", "--profile", "nope"], 2, "no profile 'nope'"),
        (["verify-client", "{good}", "--profile-var", "app"], 2, "write NAME=VALUE"),
    ],
)
def test_bad_input_is_one_line_and_a_documented_exit_code(
    traces: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    code: int,
    message: str,
) -> None:
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("this is not a trace\n")
    paths = {"good": traces["good"], "missing": tmp_path / "no.jsonl", "garbage": garbage}
    filled = [arg.format(**{k: str(v) for k, v in paths.items()}) for arg in args]
    got, _, err = cli(capsys, *filled)
    assert got == code
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


# -- the pytest fixture -----------------------------------------------------------------------

CLIENT_SUITE = """
import httpx
import pytest
from fixtures.clients.python_clients import GoodClient, IgnoresRetryAfter, UndefinedPoller


def test_good(session_mock):
    with GoodClient(session_mock.url) as client:
        assert client.converse().replies == ["echo: hello", "echo: and again"]


def test_undefined(session_mock):
    with UndefinedPoller(session_mock.url) as client:
        client.converse()


@pytest.mark.session_mock(modes=["status-503"])
def test_retry_after(session_mock):
    with IgnoresRetryAfter(session_mock.url) as client:
        client.converse()


@pytest.mark.session_mock(modes=["status-503"])
def test_good_on_a_bad_day(session_mock):
    with GoodClient(session_mock.url) as client:
        assert client.converse().final_phase == "Ready"


def test_never_calls(session_mock):
    pass


def test_fails_on_its_own(session_mock):
    httpx.get(session_mock.url + "/users/u/sessions/undefined")
    assert False, "the test's own failure"
"""


@pytest.mark.slow  # a pytest run in a subprocess, a client suite against the mock
def test_the_pytest_fixture_fails_a_client_test_with_the_clause_findings(tmp_path: Path) -> None:
    suite = tmp_path / "test_client_suite.py"
    suite.write_text(CLIENT_SUITE, encoding="utf-8")
    junit = tmp_path / "junit.xml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-q",
         "-W", "error", f"--junitxml={junit}", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path,
    )  # fmt: skip
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    failures = {
        name: (case.find("failure").get("message", "") + (case.find("failure").text or ""))  # type: ignore[union-attr]
        for name, case in cases.items()
        if case.find("failure") is not None
    }
    assert set(cases) == {
        "test_good", "test_undefined", "test_retry_after", "test_good_on_a_bad_day",
        "test_never_calls", "test_fails_on_its_own",
    }, done.stdout  # fmt: skip
    assert set(failures) == {
        "test_undefined",
        "test_retry_after",
        "test_never_calls",
        "test_fails_on_its_own",
    }, done.stdout
    assert not any(case.find("error") is not None for case in cases.values()), done.stdout
    assert "CLIENT-001 [MUST]" in failures["test_undefined"]
    assert "sessions/None/status" in failures["test_undefined"]
    assert "CLIENT-006 [MUST]" in failures["test_retry_after"]
    assert "the client never reached the mock" in failures["test_never_calls"]
    assert "the test's own failure" in failures["test_fails_on_its_own"]
    assert "CLIENT-001" not in failures["test_fails_on_its_own"]
