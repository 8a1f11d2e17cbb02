"""Progress: a live display by family on a real terminal (a pseudo-terminal here), plain
lines when piped or under CI, and the same final summary either way."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from conformance.context import Settings
from conformance.passive import PASSIVE
from conformance.progress import LiveProgress, console_reporter, live_wanted
from conformance.reference import ReferenceConfig, create_app
from conformance.runner import ClauseStarted, run
from conformance.target import Target

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CLAUSES = ["LIFE-001", "LIFE-003", "ID-001", "ERR-001", "SENT-001"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "environ", "live"),
    [
        (True, {"TERM": "xterm-256color"}, True),
        (True, {"TERM": "xterm", "CI": "true"}, False),
        (True, {"TERM": "dumb"}, False),
        (False, {"TERM": "xterm"}, False),
    ],
)
def test_live_only_on_a_terminal_outside_ci(tty: bool, environ: dict[str, str], live: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert live_wanted(stream, environ) is live
    with console_reporter(stream, environ=environ) as reporter:
        assert isinstance(reporter, LiveProgress) is live


def test_live_progress_shows_families_and_keeps_the_lines() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system="standard")
    reporter = LiveProgress(console)
    app = create_app(ReferenceConfig(provision_seconds=0))
    with Target(app=app) as target:
        for event in run(target, Settings(seed=1, max_examples=3), clause_ids=CLAUSES):
            reporter.handle(event)
    text = out.getvalue()
    plain = ANSI.sub("", text)
    assert ANSI.search(text)  # a live display redraws with control sequences
    for family in ("lifecycle", "identity", "errors", "sentinels"):
        assert family in plain
    assert "2/2" in plain
    assert "1/1" in plain
    for clause_id in CLAUSES:
        assert f"PASS  {clause_id}" in plain
    assert "5 passed, 0 failed, 0 not applicable, 0 error of 5 clauses" in plain


def test_live_progress_shows_the_total_the_time_and_the_clause_running() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system="standard")
    reporter = LiveProgress(console)
    app = create_app(ReferenceConfig(provision_seconds=0))
    started: list[str] = []
    with Target(app=app) as target:
        for event in run(target, Settings(seed=1, max_examples=3), clause_ids=CLAUSES):
            reporter.handle(event)
            if isinstance(event, ClauseStarted):
                # The display says at once which clause runs, before it ends.
                started.append(event.clause.id)
                assert f"running {event.clause.id}" in ANSI.sub("", out.getvalue())
    plain = ANSI.sub("", out.getvalue())
    assert sorted(started) == sorted(CLAUSES)  # passive clauses (ID-001) come last
    assert "all clauses" in plain
    assert "0/5" in plain
    assert "5/5" in plain
    assert re.search(r"\d+:\d\d elapsed · ETA (-|\d+:\d\d)", plain)


def _cli_on_a_pty(environ: dict[str, str]) -> str:
    """Run ``check`` with its standard output on a pseudo-terminal; return what it wrote."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(environ, COLUMNS="120")
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "check", "--seed", "2", "--clause", *CLAUSES],
        stdout=follower, stderr=subprocess.PIPE, cwd=ROOT, env=env,
    )  # fmt: skip
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return b"".join(chunks).decode("utf-8", "replace")


def test_the_cli_on_a_terminal_draws_progress() -> None:
    text = _cli_on_a_pty({"TERM": "xterm-256color"})
    assert ANSI.search(text)
    assert "━" in text  # rich's bar
    assert "5 passed, 0 failed" in ANSI.sub("", text)


def test_the_cli_under_ci_prints_plain_lines_even_on_a_terminal() -> None:
    text = _cli_on_a_pty({"TERM": "xterm-256color", "CI": "true"})
    assert not ANSI.search(text)
    assert "━" not in text
    lines = text.replace("\r\n", "\n").splitlines()
    # Clause order, the passively judged clauses (ID-001) last: they wait for every exchange.
    order = sorted(CLAUSES, key=lambda clause_id: clause_id in PASSIVE)
    assert [line.split()[1] for line in lines if line.startswith("  PASS")] == order
    assert "5 passed, 0 failed" in text
