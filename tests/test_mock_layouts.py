"""The mock in every layout: `mock --profile P` serves the reference in the profile's
layout, the careful client ported through the profile is clean there, and a bad client
is flagged by exactly the clause it breaks (verify-client judging through the profile).

Every test here talks to the real mock over a socket (127.0.0.1, a free port)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from conformance.cli import main
from conformance.client_checks.verifier import verify
from conformance.mock.app import plan_in_layout
from conformance.mock.modes import MockPlan, ModeError
from conformance.mock.server import start_mock
from conformance.mock.trace import Trace
from conformance.profile import Profile, builtin_names, load_profile, outgoing
from conformance.profile.envelopes import read_error
from conformance.records import ClauseResult, ResponseRecord, Verdict
from conformance.registry import registry
from conformance.runner import ClauseFinished
from fixtures.clients.python_clients import (
    BAD_CLIENTS,
    GoodClient,
    MadeUpId,
    RunsBeforeReady,
    SessionPerMessage,
    TightLoop,
    UndefinedPoller,
)

pytestmark = pytest.mark.socket

ROOT = Path(__file__).resolve().parent.parent
PROFILES = ("canonical", "adk", "chat-header", "status-query", "langgraph")
#: One bad client per layout, each an incident of that kind of front end.
ONE_BAD = {
    "canonical": RunsBeforeReady,  # runs while the session provisions
    "adk": MadeUpId,  # ADK /run with an id it made up
    "chat-header": UndefinedPoller,  # X-Session-ID: None
    "status-query": TightLoop,  # polls /session/status in a tight loop
    "langgraph": SessionPerMessage,  # a new thread per message
}


def record(tmp_path: Path, profile: Profile, client: type[GoodClient]) -> Trace:
    plan = plan_in_layout(client.plan, profile)
    path = tmp_path / f"{profile.name}-{client.__name__}.jsonl"
    with (
        start_mock(path, plan, profile=profile) as mock,
        client(mock.url, profile=profile) as actor,
    ):
        actor.converse()
    return mock.trace()


def results(trace: Trace) -> dict[str, ClauseResult]:
    return {
        event.result.clause_id: event.result
        for event in verify(trace)  # the profile named in the trace's header
        if isinstance(event, ClauseFinished)
    }


def failed(found: dict[str, ClauseResult]) -> set[str]:
    return {cid for cid, r in found.items() if r.verdict in (Verdict.FAILED, Verdict.ERROR)}


def explain(found: dict[str, ClauseResult]) -> str:
    return "\n".join(f"{r.clause_id} {r.verdict.value}: {r.summary}" for r in found.values())


def test_every_built_in_profile_is_tested_here() -> None:
    assert set(PROFILES) == set(builtin_names())


@pytest.mark.parametrize("name", PROFILES)
def test_the_careful_client_ported_to_the_layout_is_clean(tmp_path: Path, name: str) -> None:
    profile = load_profile(name)
    with (
        start_mock(tmp_path / "good.jsonl", profile=profile) as mock,
        GoodClient(mock.url, profile=profile) as client,
    ):
        outcome = client.converse()
    assert outcome.replies == ["echo: hello", "echo: and again"], outcome
    trace = mock.trace()
    assert trace.header.layout == profile.name
    found = results(trace)
    assert not failed(found), explain(found)
    # Some clauses judged the traffic: a clean verdict is not a vacuous one.
    assert {"CLIENT-001", "CLIENT-002", "CLIENT-003", "CLIENT-011"} <= {
        cid for cid, r in found.items() if r.verdict is Verdict.PASSED
    }, explain(found)
    polled = {"CLIENT-004", "CLIENT-007", "CLIENT-008"}
    if profile.has("status"):
        assert polled <= {c for c, r in found.items() if r.verdict is Verdict.PASSED}
    else:
        assert all(found[c].verdict is Verdict.NOT_APPLICABLE for c in polled), explain(found)


@pytest.mark.parametrize(("name", "client"), ONE_BAD.items(), ids=list(ONE_BAD))
def test_one_bad_client_per_layout_is_flagged_by_exactly_its_clause(
    tmp_path: Path, name: str, client: type[GoodClient]
) -> None:
    found = results(record(tmp_path, load_profile(name), client))
    assert failed(found) == set(client.breaks), explain(found)


def applicable(profile: Profile, client: type[GoodClient]) -> bool:
    """Whether ``client``'s bug can show in ``profile``'s layout."""
    clauses = {clause.id: clause for clause in registry().of_subject("client")}
    roles = {role for cid in client.breaks for role in clauses[cid].roles}
    if not all(profile.has(role) for role in roles):
        return False
    if client.needs_provisioning and profile.readiness == "immediate":
        return False
    try:
        plan_in_layout(client.plan, profile)
    except ModeError:
        return False
    return True


CASES = [
    pytest.param(name, client, id=f"{name}-{client.__name__}")
    for name in PROFILES
    for client in BAD_CLIENTS
    if name != "canonical"  # tests/test_verify_client.py runs every one there
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "client"), CASES)
def test_every_bad_client_is_flagged_in_every_layout_where_its_bug_can_show(
    tmp_path: Path, name: str, client: type[GoodClient]
) -> None:
    profile = load_profile(name)
    if not applicable(profile, client):
        pytest.skip(f"{client.__name__}'s bug cannot show in layout {name}")
    found = results(record(tmp_path, profile, client))
    assert failed(found) == set(client.breaks), explain(found)


# -- the layout itself ----------------------------------------------------------------------


def code_of(profile: Profile, response: httpx.Response) -> str | None:
    record = ResponseRecord(
        response.status_code, tuple(response.headers.multi_items()), response.content
    )
    read = read_error(profile.envelope, record)
    assert read.problems == (), (read.problems, response.text)
    assert read.body is not None
    code = read.body["error"]
    return code if isinstance(code, str) else None


@pytest.mark.parametrize("name", PROFILES)
def test_errors_come_in_the_profile_s_envelope_and_read_back_as_the_reference_s_codes(
    tmp_path: Path, name: str
) -> None:
    profile = load_profile(name)
    invented = profile.session_ids.invent(__import__("random").Random(7))
    with (
        start_mock(tmp_path / "errors.jsonl", profile=profile) as mock,
        httpx.Client(base_url=mock.url) as http,
    ):

        def send(role: str, session_id: str) -> httpx.Response:
            body = {
                "user_id": "alice",
                "session_id": session_id,
                "new_message": {"role": "user", "parts": [{"text": "hi"}]},
            }
            out = outgoing(
                profile, role, method=None, user_id="alice", session_id=session_id,
                body=body if role == "run" else None, raw=None, headers={},
            )  # fmt: skip
            headers = {**out.headers, "Content-Type": "application/json"}
            return http.request(
                out.method, out.path, params=out.params, headers=headers, content=out.content
            )

        never = send("run", invented)
        assert never.status_code == 404
        assert code_of(profile, never) == "SESSION_NOT_FOUND"
        nowhere = http.get("/no/such/route")
        assert nowhere.status_code == 404
        assert code_of(profile, nowhere) == "NOT_FOUND"
        create = profile.route("create")
        wrong = http.request("PUT", create.path(user_id="alice"))
        assert wrong.status_code == 405
        assert code_of(profile, wrong) == "METHOD_NOT_ALLOWED"
        allowed = {m.strip() for m in wrong.headers["allow"].split(",")}
        assert profile.methods_at(create.template) <= allowed
        lost = send("get", "undefined")
        assert lost.status_code == 400  # never looked up
    # The trace holds the layout's own bytes, not the reference's.
    paths = [item.request.url.removeprefix(mock.url) for item in mock.trace().exchanges]
    assert paths[2] == create.path(user_id="alice")


def test_a_layout_without_a_status_route_refuses_the_provisioning_modes() -> None:
    adk = load_profile("adk")
    with pytest.raises(ModeError, match="Ready at create"):
        plan_in_layout(MockPlan(modes=("slow",)), adk)
    assert plan_in_layout(MockPlan(modes=("create-5xx",)), adk).provisioning == 0


# -- the command line and the pytest fixture --------------------------------------------------


def test_mock_and_verify_client_on_the_command_line_in_the_status_query_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "cli.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "mock", "--profile", "status-query",
         "--port", "0", "--record", str(trace)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        announce = server.stdout.readline()
        assert "(layout status-query;" in announce, announce
        assert "verify-client" in announce
        assert "--profile status-query" in announce
        url = announce.split("mock on ", 1)[1].split(",", 1)[0]
        with UndefinedPoller(url, profile=load_profile("status-query")) as client:
            client.converse()
    finally:
        server.send_signal(signal.SIGTERM)
        stopped = server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    assert stopped == 0
    assert main(["verify-client", str(trace), "--profile", "status-query", "-q"]) == 1
    out = capsys.readouterr().out
    assert "CLIENT-001" in out
    assert "query parameter id = 'None'" in out


def test_mock_refuses_a_mode_its_layout_cannot_have_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["mock", "--profile", "langgraph", "--mode", "status-503",
                 "--record", str(tmp_path / "t.jsonl")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "status-503" in err


LAYOUT_SUITE = """
import pytest
from conformance.profile import load_profile
from fixtures.clients.python_clients import GoodClient, UndefinedPoller


@pytest.mark.session_mock(profile="adk")
def test_adk_front_end(session_mock):
    with GoodClient(session_mock.url, profile=load_profile("adk")) as client:
        assert client.converse().replies == ["echo: hello", "echo: and again"]


@pytest.mark.session_mock(profile="chat-header")
def test_header_front_end_loses_the_id(session_mock):
    with UndefinedPoller(session_mock.url, profile=load_profile("chat-header")) as client:
        client.converse()
"""


def test_the_session_mock_fixture_serves_and_judges_the_profile_s_layout(tmp_path: Path) -> None:
    suite = tmp_path / "test_layout_suite.py"
    suite.write_text(LAYOUT_SUITE, encoding="utf-8")
    junit = tmp_path / "junit.xml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-q",
         "-W", "error", f"--junitxml={junit}", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path,
    )  # fmt: skip
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {"test_adk_front_end", "test_header_front_end_loses_the_id"}
    assert cases["test_adk_front_end"].find("failure") is None
    failure = cases["test_header_front_end_loses_the_id"].find("failure")
    assert failure is not None
    text = failure.get("message", "") + (failure.text or "")
    assert "CLIENT-001" in text
    assert "header x-session-id = 'None'" in text
    assert "--profile chat-header" in text


@pytest.mark.parametrize("name", PROFILES)
def test_a_streamed_run_comes_in_the_layout_s_frames(tmp_path: Path, name: str) -> None:
    from conformance.profile import view_of
    from conformance.records import Exchange, RequestRecord

    profile = load_profile(name)
    with (
        start_mock(tmp_path / "s.jsonl", MockPlan(provision_seconds=0), profile=profile) as mock,
        GoodClient(mock.url, profile=profile) as client,
    ):
        sid = client.create()
        body = {
            "user_id": "alice",
            "session_id": sid,
            "new_message": {"role": "user", "parts": [{"text": "yo"}]},
        }
        out = outgoing(
            profile, "run_stream", method=None, user_id="alice", session_id=sid, body=body,
            raw=None, headers={},
        )  # fmt: skip
        answer = client.http.request(
            out.method, out.path, params=out.params, content=out.content,
            headers={**out.headers, "Content-Type": "application/json"},
        )  # fmt: skip
    assert answer.status_code == 200
    record = ResponseRecord(200, tuple(answer.headers.multi_items()), answer.content)
    view = view_of(profile, "run_stream", Exchange(0, RequestRecord("POST", "/", ()), record))
    stream = answer.content if view is None or view.stream is None else view.stream
    assert b'"parts":[{"text":"echo: yo"}]' in stream, (answer.content, stream)
