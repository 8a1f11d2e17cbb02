"""Both halves on live traffic: real clients, the validation proxy, real backends.

- A plain-JS page in the ``status-query`` layout, in headless Chromium, polls through the
  proxy to the reference served in that layout: the correct page is clean; the page with
  incident 5's bug (``/session/status?id=undefined`` in a tight loop) is flagged by
  exactly the client clauses it breaks.
- An ADK-layout page creates through a same-origin route of its own front-end server,
  which forwards ``/api/...`` to the proxy in front of a real ``adk api_server`` (as a
  Next.js rewrite does): the correct page is clean; the page whose front end lacks the
  route (a 404 HTML page from the front-end server) is flagged.
- A scripted Python client (httpx) in the ADK layout through the proxy to a real
  ``adk api_server``: clean.

Every trace is judged by both commands, ``verify-client`` (the client's clauses) and
``verify-trace`` (the server's, on the traffic observed). The tests wait for events (the
page's report, the trace holding every request), never for a sleep. Chromium and
google-adk are installed in CI (``.ci/run``); without one, the tests needing it are
skipped with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.cli import main
from conformance.mock.trace import Trace
from conformance.proxy import RunningProxy, start_proxy
from conformance.records import Verdict
from conformance.reference import ReferenceConfig
from conformance.reporting.saved import SavedClause, read_report
from conformance.serving import serve_in_thread
from fixtures.adk_agents.server import APP, adk_api_server, installed_version
from fixtures.clients.browser import StaticSite, chromium_path, run_page
from fixtures.clients.frontend import ADK_REWRITES, FrontEnd, without
from fixtures.layouts.status_query import StatusQueryApp

pytestmark = pytest.mark.socket

needs_chromium = pytest.mark.skipif(
    chromium_path() is None, reason="needs Debian's chromium (apt-get install -y chromium)"
)
#: Bound on every wait for something the test made happen (never a timed assertion).
WAIT = 30.0
#: Long enough for a careful poller to poll five times before Ready (CLIENT-005 judged).
PROVISION_SECONDS = 2.0
#: verify-client's flags for the status-query pages: the layout, and the page's deadline
#: (a page that talks to a real backend states it in no header of the harness's).
STATUS_QUERY_CLIENT = ("--profile", "status-query", "--deadline-ms", "20000")
#: The verifiers' flags for ADK traffic: the layout and the app the fixture serves.
ADK_CLIENT = ("--profile", "adk", "--profile-var", f"app={APP}")


@dataclass(frozen=True, slots=True)
class Verdicts:
    """One command's verdicts on a trace, by clause id."""

    clauses: dict[str, SavedClause]
    exit_code: int

    def failed(self) -> set[str]:
        return {cid for cid, c in self.clauses.items() if c.verdict is Verdict.FAILED}

    def of(self, verdict: Verdict) -> set[str]:
        return {cid for cid, c in self.clauses.items() if c.verdict is verdict}

    def explain(self) -> str:
        return "\n".join(f"{c.id} {c.verdict.value}: {c.summary}" for c in self.clauses.values())


def judge(command: str, trace: Path, tmp_path: Path, *flags: str) -> Verdicts:
    """``session-conformance COMMAND TRACE --report-json ...``, as a user runs it."""
    report = tmp_path / f"{command}.json"
    code = main([command, str(trace), *flags, "--report-json", str(report), "-q"])
    return Verdicts({c.id: c for c in read_report(report).clauses}, code)


def wait_for_requests(proxy: RunningProxy, count: int) -> Trace:
    """The trace once it holds ``count`` requests of the client (CORS preflights, which
    the browser sends on its own, not counted): the proxy records an exchange when its
    answer has ended, which may be just after the client read it."""
    deadline = time.monotonic() + WAIT
    while True:
        trace = proxy.trace()
        sent = [i for i in trace.exchanges if i.request.method != "OPTIONS"]
        if len(sent) >= count or time.monotonic() > deadline:
            return trace
        time.sleep(0.01)


# -- (a) a status-query page in Chromium, through the proxy, to the reference ---------------


@pytest.fixture
def status_query_page(tmp_path: Path) -> Iterator[tuple[StaticSite, RunningProxy]]:
    """The page's site, and the proxy (recording) in front of the reference served in
    the status-query layout, which allows the site's origin (CORS)."""
    with StaticSite() as site:
        config = ReferenceConfig(provision_seconds=PROVISION_SECONDS, cors_origin=site.origin)
        backend = serve_in_thread(StatusQueryApp(config))  # type: ignore[arg-type]
        with (
            backend,
            start_proxy(backend.url, tmp_path / "trace.jsonl", layout="status-query") as proxy,
        ):
            yield site, proxy


def drive(site: StaticSite, proxy: RunningProxy, page: str) -> tuple[Any, Trace]:
    url = f"{site.origin}/status-query/{page}?api={proxy.url}&user=browser-user&deadline_ms=20000"
    report = run_page(site, url, timeout=90).report
    return report, wait_for_requests(proxy, report["requests"])


@needs_chromium
def test_the_correct_status_query_page_is_clean_on_both_sides(
    tmp_path: Path, status_query_page: tuple[StaticSite, RunningProxy]
) -> None:
    site, proxy = status_query_page
    report, trace = drive(site, proxy, "good.html")
    assert report["error"] is None, report
    assert report["finalPhase"] == "Ready"
    assert report["replies"] == ["echo: hello", "echo: and again"]
    assert report["percents"][-1] == 100
    assert "Ready 100%" in report["dom"]
    assert any(i.request.method == "OPTIONS" for i in trace.exchanges), "cross-origin: preflights"
    assert trace.header.layout == "status-query"

    client = judge("verify-client", proxy.trace_path, tmp_path, *STATUS_QUERY_CLIENT)
    assert client.failed() == set(), client.explain()
    assert client.exit_code == 0
    # Judged, not vacuous: it created, polled with backoff to Ready, ran and deleted.
    for clause_id in ("CLIENT-001", "CLIENT-002", "CLIENT-003", "CLIENT-004", "CLIENT-005"):
        assert clause_id in client.of(Verdict.PASSED), client.explain()
    for clause_id in ("CLIENT-007", "CLIENT-008", "CLIENT-010", "CLIENT-011"):
        assert clause_id in client.of(Verdict.PASSED), client.explain()

    server = judge("verify-trace", proxy.trace_path, tmp_path)
    assert server.failed() == set(), server.explain()
    # The answers named one id, the polls rose to Ready: judged on this traffic. Nothing
    # was an error, a sentinel or a 422, so those clauses are not_applicable, not passed.
    assert {"ID-001", "POLL-002", "POLL-003"} <= server.of(Verdict.PASSED), server.explain()
    assert {"ERR-006", "SENT-001", "VAL-009"} <= server.of(Verdict.NOT_APPLICABLE)


@needs_chromium
def test_the_status_query_page_polling_undefined_in_a_tight_loop_is_flagged(
    tmp_path: Path, status_query_page: tuple[StaticSite, RunningProxy]
) -> None:
    site, proxy = status_query_page
    report, trace = drive(site, proxy, "undefined.html")
    assert report["error"] == "gave up after 25 polls"
    assert "Session: undefined" in report["dom"]
    polls = [i for i in trace.exchanges if i.request.url.split("?")[0].endswith("/session/status")]
    assert len(polls) == 25
    assert all("id=undefined" in i.request.url and i.exchange.status == 400 for i in polls)

    client = judge("verify-client", proxy.trace_path, tmp_path, *STATUS_QUERY_CLIENT)
    # The one bug breaks these: the lost id (CLIENT-001), no pause between polls
    # (CLIENT-004) and so no backoff (CLIENT-005, SHOULD), and the session it created but
    # cannot delete, having lost its id (CLIENT-011, SHOULD).
    assert client.failed() == {"CLIENT-001", "CLIENT-004", "CLIENT-005", "CLIENT-011"}, (
        client.explain()
    )
    assert client.exit_code == 1
    assert "query parameter id = 'undefined'" in client.clauses["CLIENT-001"].summary
    assert "(a tight loop)" in client.clauses["CLIENT-004"].summary

    # The backend answered every poll 400 (its sentinel rule, judged on this traffic).
    server = judge("verify-trace", proxy.trace_path, tmp_path)
    assert server.failed() == set(), server.explain()
    assert "SENT-001" in server.of(Verdict.PASSED), server.explain()
    assert "on observed traffic" in server.clauses["SENT-001"].summary


# -- (b) and (c): a real `adk api_server` behind the proxy ---------------------------------

needs_adk = pytest.mark.skipif(
    installed_version() is None,
    reason="google-adk is not installed (pip install -e '.[adk]'; CI installs it)",
)


@pytest.fixture(scope="module")
def adk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real ``adk api_server`` for the module (it takes seconds to import)."""
    with adk_api_server(tmp_path_factory.mktemp("adk"), cors_origin=None) as url:
        yield url


def adk_through_the_proxy(adk: str, tmp_path: Path) -> RunningProxy:
    return start_proxy(adk, tmp_path / "trace.jsonl", layout="adk")


@needs_chromium
@needs_adk
@pytest.mark.slow
def test_the_adk_page_through_its_front_ends_routes_is_clean_on_both_sides(
    adk: str, tmp_path: Path
) -> None:
    with adk_through_the_proxy(adk, tmp_path) as proxy, FrontEnd(proxy.url) as site:
        report = run_page(site, f"{site.origin}/adk/chat.html?app={APP}", timeout=90).report
        trace = wait_for_requests(proxy, 4)  # create, run, run, delete
    assert report["error"] is None, report
    assert report["create"]["status"] == 200
    assert report["replies"] == ["echo: hello", "echo: and again"]
    assert not any(i.request.method == "OPTIONS" for i in trace.exchanges), "same origin"

    client = judge("verify-client", proxy.trace_path, tmp_path, *ADK_CLIENT)
    assert client.failed() == set(), client.explain()
    assert client.exit_code == 0
    for clause_id in ("CLIENT-001", "CLIENT-002", "CLIENT-003", "CLIENT-010", "CLIENT-011"):
        assert clause_id in client.of(Verdict.PASSED), client.explain()

    server = judge("verify-trace", proxy.trace_path, tmp_path, *ADK_CLIENT)
    assert server.failed() == set(), server.explain()


@needs_chromium
@needs_adk
@pytest.mark.slow
def test_the_adk_page_whose_front_end_lacks_the_create_route_is_flagged(
    adk: str, tmp_path: Path
) -> None:
    with (
        adk_through_the_proxy(adk, tmp_path) as proxy,
        FrontEnd(proxy.url, without(ADK_REWRITES, "create")) as site,
    ):
        report = run_page(site, f"{site.origin}/adk/chat.html?app={APP}", timeout=90).report
        trace = wait_for_requests(proxy, 2)  # run, delete: the create never left the front end
    assert report["create"]["status"] == 404
    assert report["create"]["type"].startswith("text/html")
    assert report["error"].startswith("run answered 404: Session not found")
    assert [i.request.method for i in trace.exchanges] == ["POST", "DELETE"]

    client = judge("verify-client", proxy.trace_path, tmp_path, *ADK_CLIENT)
    # Seen from the backend, the missing route is a client that runs (and deletes) a
    # session no create returned: CLIENT-002, and nothing else.
    assert client.failed() == {"CLIENT-002"}, client.explain()
    assert client.exit_code == 1
    problems = [f.message for f in client.clauses["CLIENT-002"].findings]
    assert len(problems) == 2, problems
    assert problems[0].startswith("run of ")
    assert problems[1].startswith("delete of ")
    assert all("no create ever returned this id" in p for p in problems)

    # The backend did its part: 404 for a run on an id never created, in its envelope.
    server = judge("verify-trace", proxy.trace_path, tmp_path, *ADK_CLIENT)
    assert server.failed() == set(), server.explain()
    assert {"LIFE-001", "ERR-006"} <= server.of(Verdict.PASSED), server.explain()


@needs_adk
@pytest.mark.slow
def test_a_scripted_adk_client_through_the_proxy(adk: str, tmp_path: Path) -> None:
    with adk_through_the_proxy(adk, tmp_path) as proxy:
        replies = scripted_adk_client(proxy.url, user="scripted-user")
        wait_for_requests(proxy, 7)
    assert replies == ["echo: hello", "echo: and again", "echo: streamed"]

    # The client's clauses: clean, and judged where the ADK layout lets them be. ADK has
    # no status route, and a careful client met no Retry-After or 5xx.
    client = judge("verify-client", proxy.trace_path, tmp_path, *ADK_CLIENT)
    assert client.failed() == set(), client.explain()
    assert client.exit_code == 0
    assert client.of(Verdict.PASSED) == {
        "CLIENT-001",
        "CLIENT-002",
        "CLIENT-003",
        "CLIENT-010",
        "CLIENT-011",
    }, client.explain()

    # The server's, on this traffic: ADK's create and get answers name one id (judged
    # through the profile: `id` is the session's id). A careful client provokes no error,
    # sentinel or 422, and ADK has no status to poll: the rest is not_applicable.
    server = judge("verify-trace", proxy.trace_path, tmp_path, *ADK_CLIENT)
    assert server.failed() == set(), server.explain()
    assert server.exit_code == 0
    assert server.of(Verdict.PASSED) == {"ID-001", "ID-003"}, server.explain()
    assert server.of(Verdict.ERROR) == set(), server.explain()


def scripted_adk_client(base: str, *, user: str) -> list[str]:
    """A careful client in the ADK layout: create (the server chooses the id), get, run
    twice, run once streamed, list, delete; every answer checked. Seven requests."""
    sessions = f"/apps/{APP}/users/{user}/sessions"
    replies: list[str] = []

    def body(session_id: str, text: str) -> dict[str, Any]:
        message = {"role": "user", "parts": [{"text": text}]}
        return {"appName": APP, "userId": user, "sessionId": session_id, "newMessage": message}

    def texts(events: list[dict[str, Any]]) -> str:
        return "\n".join("".join(p["text"] for p in e["content"]["parts"]) for e in events)

    with httpx.Client(base_url=base, timeout=WAIT) as http:
        created = http.post(sessions, json={})
        created.raise_for_status()
        session_id = created.json()["id"]
        assert http.get(f"{sessions}/{session_id}").json()["id"] == session_id
        for text in ("hello", "and again"):
            answer = http.post("/run", json=body(session_id, text))
            answer.raise_for_status()
            replies.append(texts(answer.json()))
        with http.stream("POST", "/run_sse", json=body(session_id, "streamed")) as stream:
            stream.raise_for_status()
            frames = [
                json.loads(line.removeprefix("data:"))
                for line in stream.iter_lines()
                if line.startswith("data:")
            ]
        replies.append(texts(frames))
        listed = http.get(sessions).json()
        assert session_id in [s["id"] for s in listed]
        http.delete(f"{sessions}/{session_id}").raise_for_status()
    return replies
