"""A real LangGraph API server (``langgraph dev``) as a target, checked with the
``langgraph`` profile.

The live tests start ``langgraph dev`` from a clean folder on 127.0.0.1 (random port,
analytics, version check and tracing off, the echo fixture graph: no model, no network;
:mod:`fixtures.langgraph_app.server`), run the one ``check`` command line the report
runs, and hold every clause's verdict to ``fixtures/langgraph_app/expected.json``. They
are skipped when there is no ``langgraph`` executable (``.venv-langgraph``, made from
``fixtures/langgraph_app/requirements.txt``; CI makes it), unless
``SESSION_CONFORMANCE_REQUIRE_LANGGRAPH`` is set, when they fail. The other tests need
no LangGraph: every failure in the expectation is judged (never as the harness's), and
the committed report agrees with it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.records import Verdict
from conformance.reporting.saved import read_report
from conformance.runner import select
from fixtures.langgraph_app.report import LANGGRAPH, verdicts
from fixtures.langgraph_app.server import (
    CHECK_ARGS,
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


@pytest.mark.slow
@pytest.mark.socket
@pytest.mark.skipif(MISSING, reason=WHY)
def test_a_live_langgraph_dev_gets_the_expected_verdicts(tmp_path: Path) -> None:
    version = installed_version()
    recorded = json.loads(LANGGRAPH.expected.read_text(encoding="utf-8"))["langgraph-api"]
    assert version == recorded, (
        f"langgraph-api {version} is installed but the expectation was made with {recorded} "
        f"(requirements.txt pins {PINNED}): install the pinned version, or {REGENERATE}"
    )
    with langgraph_dev(tmp_path) as url:
        code, printed = LANGGRAPH.run_check(url, tmp_path / "report.json")
    assert "Traceback" not in printed
    report = read_report(tmp_path / "report.json")
    got, expected = verdicts(report), _expected()
    changed = {
        cid: f"expected {expected.get(cid, 'no verdict')}, got {got.get(cid, 'no verdict')}"
        for cid in sorted(set(got) | set(expected))
        if got.get(cid) != expected.get(cid)
    }
    summaries = {c.id: c.summary for c in report.clauses if c.id in changed}
    assert not changed, f"verdicts against LangGraph changed: {changed}\n{summaries}\n{REGENERATE}"
    assert code == (1 if Verdict.FAILED.value in got.values() else 0)
    assert not report.by_verdict(Verdict.ERROR)


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
