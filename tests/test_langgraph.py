"""A real LangGraph API server (``langgraph dev``) as a target, checked with the
``langgraph`` profile.

The live tests start ``langgraph dev`` from a clean folder on 127.0.0.1 (random port,
analytics, version check and tracing off, the echo fixture graph: no model, no network;
:mod:`fixtures.langgraph_app.server`), run the one ``check`` command line the report
runs, and hold every clause's verdict to ``fixtures/langgraph_app/expected.json``. They
are skipped when there is no ``langgraph`` executable (``.venv-langgraph``, made from
``fixtures/langgraph_app/requirements.txt``; CI makes it), unless
``SESSION_CONFORMANCE_REQUIRE_LANGGRAPH`` is set, when they fail. The failed stateful clauses' reproduction scripts
are run with bash against the same live server, and their last answers must say what the
findings report. The other tests need no LangGraph: every failure in the expectation is judged (never as the harness's), and
the committed report agrees with it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.observed import observe
from conformance.profile import Profile, load_profile
from conformance.records import Exchange, JSONValue, RequestRecord, ResponseRecord, Verdict
from conformance.reporting.saved import SavedExchange, SavedReport, read_report
from conformance.runner import select
from fixtures.langgraph_app.report import LANGGRAPH, verdicts
from fixtures.langgraph_app.server import (
    CHECK_ARGS,
    GRAPH,
    PINNED,
    SEED,
    installed_version,
    langgraph_dev,
)
from fixtures.vendor_report import HARNESS

REQUIRE = "SESSION_CONFORMANCE_REQUIRE_LANGGRAPH"
MISSING = installed_version() is None and not os.environ.get(REQUIRE)
WHY = "no langgraph dev (python -m venv .venv-langgraph; pip install -r fixtures/langgraph_app/requirements.txt)"
REGENERATE = "regenerate both with `nox -s langgraph -- --update` once the change is understood"


def _expected() -> dict[str, str]:
    data = json.loads(LANGGRAPH.expected.read_text(encoding="utf-8"))
    assert data["seed"] == SEED
    return dict(data["verdicts"])


@pytest.mark.slow
@pytest.mark.socket
@pytest.mark.skipif(MISSING, reason=WHY)
def test_never_created_uuids_are_404_and_runs_create_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert installed_version() == PINNED
    report = tmp_path / "report.json"
    with langgraph_dev(tmp_path) as url:
        clauses = ["LIFE-001", "LIFE-002", "LIFE-003", "ISO-001", "VAL-005"]
        argv = ["check", url, "--seed", str(SEED), *CHECK_ARGS, "--report-json", str(report)]
        code = main([*argv, "-q", "--clause", *clauses])
    printed = capsys.readouterr().out
    assert "Traceback" not in printed
    verdicts = {c.id: (c.verdict.value, c.summary) for c in read_report(report).clauses}
    assert verdicts["LIFE-001"][0] == "passed", verdicts
    assert verdicts["LIFE-002"][0] == "passed", verdicts
    for clause_id in ("ISO-001", "VAL-005"):
        assert verdicts[clause_id][0] == "not_applicable"
        assert "no users" in verdicts[clause_id][1]
    assert code in (0, 1), json.dumps(verdicts)


@dataclass(frozen=True, slots=True)
class Live:
    """The check the report runs, against a ``langgraph dev`` still serving."""

    url: str
    code: int
    printed: str
    report: SavedReport


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One full check of a live ``langgraph dev`` (a clean folder), which keeps serving
    while the module's tests read the report and replay its scripts."""
    workdir = tmp_path_factory.mktemp("langgraph")
    with langgraph_dev(workdir) as url:
        code, printed = LANGGRAPH.run_check(url, workdir / "report.json")
        yield Live(url, code, printed, read_report(workdir / "report.json"))


@pytest.mark.slow
@pytest.mark.socket
@pytest.mark.skipif(MISSING, reason=WHY)
def test_a_live_langgraph_dev_gets_the_expected_verdicts(live: Live) -> None:
    version = installed_version()
    recorded = json.loads(LANGGRAPH.expected.read_text(encoding="utf-8"))["langgraph-api"]
    assert version == recorded, (
        f"langgraph-api {version} is installed but the expectation was made with {recorded} "
        f"(requirements.txt pins {PINNED}): install the pinned version, or {REGENERATE}"
    )
    assert "Traceback" not in live.printed
    report = live.report
    got, expected = verdicts(report), _expected()
    changed = {
        cid: f"expected {expected.get(cid, 'no verdict')}, got {got.get(cid, 'no verdict')}"
        for cid in sorted(set(got) | set(expected))
        if got.get(cid) != expected.get(cid)
    }
    summaries = {c.id: c.summary for c in report.clauses if c.id in changed}
    assert not changed, f"verdicts against LangGraph changed: {changed}\n{summaries}\n{REGENERATE}"
    assert live.code == (1 if Verdict.FAILED.value in got.values() else 0)
    assert not report.by_verdict(Verdict.ERROR)


@pytest.mark.slow
@pytest.mark.socket
@pytest.mark.skipif(MISSING, reason=WHY)
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_each_stateful_failures_script_run_by_bash_shows_the_failure(
    live: Live, tmp_path: Path
) -> None:
    """Issue 18: the STATE reproduction scripts, pasted into bash against the live server,
    show the failure they report: the last answer has the finding's status and says, in
    the contract's terms (the profile reads both), what the recorded one said about the
    script's sessions."""
    failed = [c for c in live.report.by_verdict(Verdict.FAILED) if c.family == "stateful"]
    assert {c.id for c in failed} == {
        cid
        for cid, verdict in _expected().items()
        if cid.startswith("STATE-") and verdict == "failed"
    }
    profile = load_profile("langgraph", {"assistant": GRAPH})
    for clause in failed:
        for number, finding in enumerate(clause.findings):
            assert finding.script.startswith("# The sequence"), clause.id
            path = tmp_path / f"{clause.id}-{number}.sh"
            path.write_text(finding.script + "\n", encoding="utf-8")
            ran = subprocess.run(
                ["bash", str(path)], capture_output=True, text=True, timeout=120, check=False
            )
            where = f"{clause.id}'s script:\n{finding.script}\nprinted:\n{ran.stdout}{ran.stderr}"
            assert ran.returncode == 0, where
            assert not ran.stderr, where
            steps = [_record(step) for step in finding.steps]
            recorded = _seen(profile, live.url, steps)
            replayed_answer = _last_answer(ran.stdout)
            assert recorded[-1].response is not None
            assert replayed_answer.status == recorded[-1].response.status, where
            replayed = _seen(
                profile, live.url, [*steps[:-1], _answered(steps[-1], replayed_answer)]
            )
            now = _about(replayed[-1], _variables_printed(ran.stdout))
            saved = finding.steps[-1].response
            assert saved is not None
            if len(saved.body.raw()) == saved.body.size:  # the report kept the whole answer
                was = _about(recorded[-1], _variables_recorded(recorded))
                assert was is not None, where  # something to compare: an answer in JSON,
                assert not isinstance(was, dict) or was.get("sessions") != [], where  # a session
                assert now == was, where
            else:  # cut in the report (a long list): what the clause judges, on the replay
                assert clause.id in SHOWN_BY, f"{clause.id}: say how a replay shows it\n{where}"
                assert SHOWN_BY[clause.id](recorded, now), where


def _metadata_not_as_sent(steps: list[Exchange], now: JSONValue) -> bool:
    """STATE-004 on the replay: the script's session reads back with other metadata
    than its create sent (the list or get answer, in the contract's terms)."""
    creates = [step for step in steps if step.role == "create"]
    sent = creates[0].sent_json() if creates else None
    sent_metadata = sent.get("metadata", {}) if isinstance(sent, dict) else None
    sessions = now.get("sessions") if isinstance(now, dict) else None
    if not isinstance(sessions, list) and isinstance(now, dict):
        sessions = [now.get("session")]
    read = [s.get("metadata") for s in sessions or [] if isinstance(s, dict)]
    return len(read) == 1 and read[0] != sent_metadata


#: How a replay shows a clause's failure when the report cut the recorded answer.
SHOWN_BY = {"STATE-004": _metadata_not_as_sent}


def _record(saved: SavedExchange) -> Exchange:
    request = RequestRecord(
        saved.request.method, saved.request.url, saved.request.headers, saved.request.body.raw()
    )
    response = saved.response
    answer = (
        None
        if response is None
        else ResponseRecord(
            response.status, response.headers, response.body.raw(), response.truncated
        )
    )
    return Exchange(saved.index, request, answer, saved.transport_error, saved.elapsed_ms)


def _seen(profile: Profile, url: str, steps: list[Exchange]) -> list[Exchange]:
    """The steps read through the profile: each with its role and canonical view."""
    return [seen.exchange for seen in observe(tuple((0.0, s) for s in steps), profile, url)]


def _answered(step: Exchange, answer: ResponseRecord) -> Exchange:
    return Exchange(step.index, step.request, answer)


def _last_answer(printed: str) -> ResponseRecord:
    """The answer ``curl -i`` printed for the script's last step (interim 1xx skipped)."""
    start = re.search(r"^HTTP/", printed, re.MULTILINE)
    assert start is not None, printed
    rest = printed[start.start() :]
    while True:
        head, _, rest = rest.partition("\n\n")  # curl's CRLF, read as text: LF
        status_line, *lines = head.split("\n")
        status = int(status_line.split()[1])
        if status >= 200:
            break
    headers = tuple(
        (name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)
    )
    return ResponseRecord(status, headers, rest.removesuffix("\n").encode("utf-8"))


def _variables_printed(printed: str) -> dict[str, str]:
    """The ids the script captured (``SESSION_1=...`` lines): value -> variable."""
    return {value: name for name, value in re.findall(r"^(SESSION_\d+)=(.+)$", printed, re.M)}


def _variables_recorded(steps: list[Exchange]) -> dict[str, str]:
    """The recorded ids the script's variables stand for: each id a create handed out
    and a later step named, numbered in order (as the script numbers them)."""
    names: dict[str, str] = {}
    for number, step in enumerate(steps):
        body = step.body_json()
        if step.role != "create" or not isinstance(body, dict) or step.status != 201:
            continue
        value = body.get("session_id")
        later = [
            f"{s.request.url} {s.request.body.decode('utf-8', 'replace')}"
            for s in steps[number + 1 :]
        ]
        if isinstance(value, str) and value not in names and any(value in text for text in later):
            names[value] = f"SESSION_{len(names) + 1}"
    return names


#: What differs between two runs of the same steps: when, and the ids of events.
VOLATILE = frozenset({"created_at", "timestamp", "id"})


def _about(step: Exchange, variables: dict[str, str]) -> JSONValue:
    """The canonical answer as it concerns the script's sessions: ids as the variables
    that stand for them, a list cut to those sessions, volatile fields left out."""

    def reduced(value: JSONValue) -> JSONValue:
        if isinstance(value, str):
            return variables.get(value, value)
        if isinstance(value, list):
            return [reduced(item) for item in value]
        if isinstance(value, dict):
            return {k: reduced(v) for k, v in value.items() if k not in VOLATILE}
        return value

    body = reduced(step.body_json())
    if isinstance(body, dict) and isinstance(body.get("sessions"), list):
        mine = set(variables.values())
        sessions = [
            s for s in body["sessions"] if isinstance(s, dict) and s.get("session_id") in mine
        ]
        body = {**body, "sessions": sessions}
    return body


def test_the_expectation_covers_every_server_clause() -> None:
    assert set(_expected()) == {clause.id for clause in select(None)}, REGENERATE


def test_every_failure_against_langgraph_is_judged_and_none_is_the_harnesss() -> None:
    failed = {cid for cid, verdict in _expected().items() if verdict == "failed"}
    judged = LANGGRAPH.judgements()
    assert failed <= set(judged), f"failures with no judgement: {sorted(failed - set(judged))}"
    assert set(judged) <= failed, f"judgements of clauses that pass: {sorted(set(judged) - failed)}"
    blamed = sorted(cid for cid, entry in judged.items() if entry["at_fault"] == HARNESS)
    assert not blamed, f"failures marked as a harness or profile limitation: {blamed}"


def test_create_before_run_is_judged_on_uuids_and_users_are_not_applicable() -> None:
    expected = _expected()
    assert expected["LIFE-001"] == expected["LIFE-002"] == "passed"
    isolation = [cid for cid in expected if cid.startswith("ISO-")] + ["VAL-005"]
    assert {expected[cid] for cid in isolation} == {"not_applicable"}
    text = LANGGRAPH.report.read_text(encoding="utf-8")
    for cid in isolation:
        assert re.search(rf"^- \*\*{cid}\*\*: .*no users", text, re.MULTILINE), cid


def test_the_committed_report_agrees_with_the_expectation() -> None:
    text = LANGGRAPH.report.read_text(encoding="utf-8")
    row = r"^\| \[?([A-Z]+-\d{3})(?:\]\(#[^)]*\))? \| \w+ \| (\w+) \|"
    rows = dict(re.findall(row, text, re.MULTILINE))
    assert rows == _expected(), REGENERATE
    version = json.loads(LANGGRAPH.expected.read_text())["langgraph-api"]
    assert f"langgraph-api {version}" in text
