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

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.cli import main
from conformance.mock.trace import Trace
from conformance.proxy import RunningProxy, start_proxy
from conformance.records import Verdict
from conformance.reference import ReferenceConfig
from conformance.reporting.saved import SavedClause, read_report
from conformance.serving import serve_in_thread
from fixtures.clients.browser import StaticSite, chromium_path, run_page
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
