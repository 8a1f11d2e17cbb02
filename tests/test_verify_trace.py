"""verify-trace on real traffic: the reference (or a mutant) served by uvicorn on
127.0.0.1, the validation proxy in front, a scripted httpx client in front of that."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.proxy import start_proxy
from conformance.reference import ReferenceConfig, create_app
from conformance.reporting.saved import read_report
from conformance.serving import serve_in_thread
from conformance.traffic import JUDGED
from conformance.transport import ASGIApp
from fixtures.broken.zoo import find
from tests.traffic import drive

#: Each mutant, and exactly the clauses its traffic must fail on.
MUTANTS = {
    "HtmlErrorPages": {"ERR-006", "VAL-009"},
    "FastAPIDefault422": {"ERR-006", "VAL-009"},
    "SentinelsLookedUp": {"SENT-001", "SENT-002", "SENT-004"},
    "TwoIdGeneratorsDisagree": {"ID-001"},
    "RunCreatesMadeUpIds": {"LIFE-001"},
    "PercentPerPhase": {"POLL-002"},
    "ReadyFlaps": {"POLL-002", "POLL-003", "POLL-005"},
}


def recorded(app: ASGIApp, trace: Path, script: Callable[[str], None]) -> None:
    """Serve ``app``, put the proxy in front, run ``script`` against the proxy."""
    with serve_in_thread(app) as upstream, start_proxy(upstream.url, trace) as proxy:
        script(proxy.url)


def verdicts(trace: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, dict[str, str]]]:
    report = tmp_path / "report.json"
    code = main(["verify-trace", str(trace), "--report-json", str(report), "-q", *extra])
    read_report(report)  # valid against specs/report.schema.json
    results = json.loads(report.read_text())["clauses"]
    return code, {r["id"]: r for r in results}


@pytest.fixture
def reference() -> ASGIApp:
    return create_app(ReferenceConfig(provision_seconds=0.2))


def test_clean_traffic_passes_every_clause_it_exercised(reference: ASGIApp, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    recorded(reference, trace, drive)
    code, results = verdicts(trace, tmp_path)
    assert code == 0
    assert set(results) == JUDGED
    for result in results.values():
        assert result["verdict"] == "passed", result
        assert "on observed traffic" in result["summary"]


def test_what_the_traffic_never_exercised_is_not_applicable(
    reference: ASGIApp, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"
    recorded(reference, trace, lambda url: drive(url, with_sloppy=False))
    code, results = verdicts(trace, tmp_path)
    assert code == 0
    unexercised = {"ERR-006", "VAL-009", "LIFE-001", "SENT-001", "SENT-002", "SENT-004"}
    for clause_id, result in results.items():
        expected = "not_applicable" if clause_id in unexercised else "passed"
        assert result["verdict"] == expected, result
    assert "not exercised on observed traffic" in results["SENT-001"]["summary"]


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_mutant_fails_exactly_the_clauses_it_breaks(name: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    app = find(name).mutant(ReferenceConfig(provision_seconds=0.2))
    recorded(app, trace, drive)
    code, results = verdicts(trace, tmp_path)
    failed = {cid for cid, r in results.items() if r["verdict"] == "failed"}
    assert failed == MUTANTS[name]
    assert code == 1
    for clause_id in failed:
        finding = results[clause_id]["findings"][0]
        assert finding["exchange"]["request"]["url"].startswith("http://127.0.0.1:")


def test_verify_client_judges_a_proxy_trace(reference: ASGIApp, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    recorded(reference, trace, drive)
    report = tmp_path / "client.json"
    code = main(["verify-client", str(trace), "--report-json", str(report), "-q"])
    results = {r["id"]: r["verdict"] for r in json.loads(report.read_text())["clauses"]}
    assert "error" not in results.values()
    # the script sends a sentinel id and names a session it never created: flagged
    assert results["CLIENT-001"] == "failed"
    assert results["CLIENT-002"] == "failed"
    assert code == 1


def test_a_trace_with_no_traffic_decides_nothing(reference: ASGIApp, tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    recorded(reference, trace, lambda url: None)
    code, results = verdicts(trace, tmp_path)
    assert code == 3
    assert {r["verdict"] for r in results.values()} == {"error"}


@pytest.mark.parametrize("clause", ["STATE-001", "CLIENT-001", "NOPE-1"])
def test_a_clause_traffic_cannot_decide_is_a_usage_error(
    clause: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "trace.jsonl"
    trace.write_text("")
    assert main(["verify-trace", str(trace), "--clause", clause]) == 2
    err = capsys.readouterr().err
    assert clause in err
    assert len(err.strip().splitlines()) == 1


def test_an_unreadable_trace_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify-trace", str(tmp_path / "missing.jsonl")]) == 3
    assert "no such file" in capsys.readouterr().err
