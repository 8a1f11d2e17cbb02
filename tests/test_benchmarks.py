"""The benchmark runs end to end on a tiny scope and writes well-formed results; and
``check --record-exchanges`` writes every exchange of a run, replayable. No timing is
asserted: figures are the benchmark's to print, not the tests' to judge."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from benchmarks.run import balance, main
from conformance.cli import main as cli_main
from conformance.exchange_log import read_log

pytestmark = [pytest.mark.socket, pytest.mark.slow]


def test_record_exchanges_writes_every_exchange(tmp_path: Path) -> None:
    log, report = tmp_path / "exchanges.jsonl", tmp_path / "report.json"
    code = cli_main(
        ["check", "--seed", "3", "--clause", "LIFE-001", "LIFE-007", "-q",
         "--provision-seconds", "0", "--report-json", str(report),
         "--record-exchanges", str(log)]
    )  # fmt: skip
    assert code == 0
    entries = list(read_log(log))
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e.index for e in entries] == list(range(len(entries)))
    assert len(entries) > 5
    assert set(lines[0]) == {
        "index", "method", "url", "headers", "body_base64", "status", "error", "elapsed_ms"
    }  # fmt: skip
    assert {e.method for e in entries} >= {"POST", "DELETE"}
    assert all(e.status is not None and e.error is None for e in entries)
    posted = [e for e in entries if e.method == "POST" and e.body]
    assert posted
    assert base64.b64decode(lines[posted[0].index]["body_base64"]) == posted[0].body
    # the token never appears in clear; the replay puts it back
    text = log.read_text(encoding="utf-8")
    assert "sc-reference-" not in text
    assert any(
        v == "Bearer [REDACTED]" for e in entries for k, v in e.headers if k == "authorization"
    )


def test_a_bad_log_line_names_its_place(tmp_path: Path) -> None:
    log = tmp_path / "bad.jsonl"
    log.write_text('{"index": 0}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.jsonl:1: not an exchange log line"):
        list(read_log(log))


def test_families_are_shared_out_whole_and_in_order() -> None:
    measured = [("A-1", "a", 3.0), ("B-1", "b", 1.0), ("A-2", "a", 1.0), ("C-1", "c", 2.0)]
    groups = balance(measured, 2)
    assert sorted(map(tuple, groups)) == [("A-1", "A-2"), ("B-1", "C-1")]
    assert balance(measured, 1) == [["A-1", "B-1", "A-2", "C-1"]]


@pytest.mark.timeout(300)
def test_quick_benchmark_writes_well_formed_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "RESULTS.md"
    code = main(
        ["--quick", "--clause", "LIFE-001", "--examples", "2", "--examples", "3",
         "--examples", "5", "--workers", "1", "--st-examples", "2",
         "--mutant", "HtmlErrorPages", "--mutant-scope", "trips", "--output", str(out), "-q"]
    )  # fmt: skip
    assert code == 0
    text = out.read_text(encoding="utf-8")
    for heading in (
        "# Benchmarks",
        "## Summary",
        "## The full default check",
        "## The floor: a bare httpx replay",
        "## Scaling",
        "## schemathesis against the reference",
        "## Side by side on the zoo",
    ):
        assert f"\n{heading}\n" in f"\n{text}", heading
    assert "python -m benchmarks --quick" in text
    assert re.search(r"\| harness / bare, per request \| \d+\.\d\dx \|", text)
    assert re.search(r"\| requests sent \| [1-9]\d* \|", text)
    assert "| `ReferenceApp` | clean |" in text
    assert re.search(r"\| `HtmlErrorPages` \| caught \|", text)
    for size in ("2", "3", "5"):
        assert re.search(rf"\n\| {size} \| \d+\.\d\d \|", text), size
    # every table row has as many cells as its header
    for table in re.findall(r"((?:^\|.*\|\n)+)", text, flags=re.M):
        rows = table.strip().splitlines()
        widths = {row.count(" | ") for row in rows if not row.startswith("|---")}
        assert len(widths) == 1, rows[0]
    assert "wrote" in capsys.readouterr().out
