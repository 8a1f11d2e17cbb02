"""A real Google ADK ``adk api_server`` as a target, checked with the ``adk`` profile.

The live test starts ``adk api_server`` on 127.0.0.1 (random port, in-memory sessions,
isolated HOME, telemetry off, the echo fixture app: no model, no network), runs the one
``check`` command line the report runs, and holds every clause's verdict to
``fixtures/adk_agents/expected.json``. It is skipped only when google-adk is not
installed (``pip install -e '.[adk]'``; CI installs it). The other tests need no ADK:
every failure in the expectation is judged, and the committed report agrees with it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.records import Verdict
from conformance.reporting.saved import read_report
from conformance.runner import select
from fixtures.adk_agents.report import EXPECTED, REPORT, judgements, run_check, verdicts
from fixtures.adk_agents.server import PINNED, SEED, adk_api_server, installed_version

REGENERATE = "regenerate both with `nox -s adk -- --update` once the change is understood"


def _expected() -> dict[str, str]:
    data = json.loads(EXPECTED.read_text(encoding="utf-8"))
    assert data["seed"] == SEED
    return dict(data["verdicts"])


@pytest.mark.socket
@pytest.mark.slow
@pytest.mark.skipif(
    installed_version() is None,
    reason="google-adk is not installed (pip install -e '.[adk]'; CI installs it)",
)
def test_a_live_adk_api_server_gets_the_expected_verdicts(tmp_path: Path) -> None:
    version = installed_version()
    recorded = json.loads(EXPECTED.read_text(encoding="utf-8"))["google-adk"]
    assert version == recorded, (
        f"google-adk {version} is installed but the expectation was made with {recorded} "
        f"(pyproject pins {PINNED}): install the pinned version, or {REGENERATE}"
    )
    with adk_api_server(tmp_path) as url:
        code, printed = run_check(url, tmp_path / "report.json")
    assert "Traceback" not in printed
    report = read_report(tmp_path / "report.json")
    got, expected = verdicts(report), _expected()
    changed = {
        cid: f"expected {expected.get(cid, 'no verdict')}, got {got.get(cid, 'no verdict')}"
        for cid in sorted(set(got) | set(expected))
        if got.get(cid) != expected.get(cid)
    }
    summaries = {c.id: c.summary for c in report.clauses if c.id in changed}
    assert not changed, f"verdicts against ADK changed: {changed}\n{summaries}\n{REGENERATE}"
    assert code == (1 if Verdict.FAILED.value in got.values() else 0)
    assert not report.by_verdict(Verdict.ERROR)


@pytest.mark.socket
@pytest.mark.slow  # a real ADK api_server
@pytest.mark.skipif(installed_version() is None, reason="google-adk is not installed")
def test_adks_own_openapi_document_fits_the_adk_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with adk_api_server(tmp_path, cors_origin=None) as url:
        adk_code = main(["compare-openapi", url, "--profile", "adk"])
        adk_out = capsys.readouterr().out
        canonical_code = main(["compare-openapi", url])
        canonical_out = capsys.readouterr().out
    assert adk_code == 0, adk_out
    assert "the request body accepts unknown fields" in adk_out  # VAL-001, seen in advance
    assert canonical_code == 1
    assert "no POST operation on a path matching /users/{user_id}/sessions" in canonical_out


def test_the_expectation_covers_every_server_clause() -> None:
    assert set(_expected()) == {clause.id for clause in select(None)}, REGENERATE


def test_every_failure_against_adk_is_judged() -> None:
    failed = {cid for cid, verdict in _expected().items() if verdict == "failed"}
    judged = judgements()
    assert failed <= set(judged), f"failures with no judgement: {sorted(failed - set(judged))}"
    assert set(judged) <= failed, f"judgements of clauses that pass: {sorted(set(judged) - failed)}"


def test_the_committed_report_agrees_with_the_expectation() -> None:
    text = REPORT.read_text(encoding="utf-8")
    row = r"^\| \[?([A-Z]+-\d{3})(?:\]\(#[^)]*\))? \| \w+ \| (\w+) \|"
    rows = dict(re.findall(row, text, re.MULTILINE))
    assert rows == _expected(), REGENERATE
    assert f"google-adk {json.loads(EXPECTED.read_text())['google-adk']}" in text
