"""STATE-*: the model-based exploration passes conformant backends (in-process, over a real
socket, the stdlib server), shrinks what it finds in a mutant (each is caught at several
seeds by tests/test_families.py) to a short sequence, and prints that sequence as a shell
script a person can paste: the script is run here with bash against the served mutant, and
shows the bug."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conformance.client import ContractClient
from conformance.context import CheckContext, Settings
from conformance.contract import report_schema
from conformance.exploration import MIN_SEQUENCES, explore
from conformance.model import CLAUSES
from conformance.records import ClauseResult, Finding, Verdict
from conformance.reference import ReferenceApp, ReferenceConfig, create_app
from conformance.reference.models import Session
from conformance.reporting.sequence import script
from conformance.runner import run_clause, select
from conformance.serving import serve_in_thread
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from fixtures.broken.stateful import (
    ListCacheKeptAfterDelete,
    RunCacheOutlivesDelete,
)
from tests.families import STATEFUL

STATE = STATEFUL.clauses
TOKEN = STATEFUL.token
#: The seeds the mutants are caught at (in tests/test_families.py), and the conformant
#: backends' runs here.
SEEDS = STATEFUL.mutant_seeds
RUNS = STATEFUL.runs


def _run_all(target: Target, seed: int, **overrides: object) -> dict[str, ClauseResult]:
    client = ContractClient(target)
    return {
        clause.id: run_clause(clause, client, RUNS.settings(seed, **overrides))
        for clause in select(STATE)
    }


def _failed_finding(mutant: type[Mutant], clause_id: str, seed: int) -> Finding:
    result = check_mutant(mutant, clause_id, seed=seed)
    assert result.verdict is Verdict.FAILED, result.summary
    return result.findings[0]


reference = RUNS.reference_fixture()


# -- the registry ---------------------------------------------------------------------------


def test_the_family_has_one_clause_per_invariant() -> None:
    assert tuple(STATE) == CLAUSES
    for clause in select(STATE):
        assert clause.statement.startswith("In any sequence of requests, ")
        assert clause.level == "MUST"


# -- conformant backends pass ---------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_passes(reference: Target, seed: int) -> None:
    results = _run_all(reference, seed)
    failed = {cid: r.summary for cid, r in results.items() if r.verdict is not Verdict.PASSED}
    assert failed == {}
    summary = results["STATE-003"].summary
    assert re.search(r"\d+ answer\(s\) judged, no violation", summary), summary
    assert f"of up to {Settings().max_steps} steps" in summary


def test_the_reference_passes_when_sessions_are_ready_at_create() -> None:
    with RUNS.reference(provision_seconds=0) as target:
        results = _run_all(target, 3)
    assert {cid: r.verdict for cid, r in results.items()} == dict.fromkeys(STATE, Verdict.PASSED)


@pytest.mark.socket
def test_the_reference_passes_over_a_real_socket() -> None:
    app = create_app(RUNS.config())
    with serve_in_thread(app) as server, Target(server.url, token=TOKEN) as target:
        results = _run_all(target, 4)
    failed = {cid: r.summary for cid, r in results.items() if r.verdict is not Verdict.PASSED}
    assert failed == {}


@pytest.mark.socket
@pytest.mark.parametrize("seed", SEEDS)
def test_the_stdlib_server_passes_over_a_real_socket(seed: int) -> None:
    # Newest-first lists, two events per run, eta null, ids unique per user, a base path.
    with RUNS.stdlib_server() as target:
        results = _run_all(target, seed)
    failed = {cid: r.summary for cid, r in results.items() if r.verdict is not Verdict.PASSED}
    assert failed == {}


def test_without_client_ids_no_create_chooses_an_id(reference: Target) -> None:
    mark = reference.mark()
    results = _run_all(reference, 5, features=frozenset())
    assert all(r.verdict is Verdict.PASSED for r in results.values())
    creates = [
        e
        for e in reference.since(mark)
        if e.request.method == "POST" and e.request.url.endswith("/sessions")
    ]
    assert creates
    assert not any(b'"session_id"' in e.request.body for e in creates)


# -- mutants are caught, and what is reported ---------------------------------------------


def test_a_failure_is_shrunk_to_the_few_steps_that_show_it() -> None:
    # The fault needs a run, a delete and a run again on one session: with the requests
    # that made that session Ready, about five steps, never the 50-step sequence found.
    finding = _failed_finding(RunCacheOutlivesDelete, "STATE-001", 1)
    assert len(finding.steps) <= 8, [f"{s.request.method} {s.request.url}" for s in finding.steps]
    methods = [step.request.method for step in finding.steps]
    assert "DELETE" in methods
    assert methods[-1] == "POST"  # the run on the deleted session


def test_the_failure_is_a_numbered_script_with_captured_variables() -> None:
    finding = _failed_finding(ListCacheKeptAfterDelete, "STATE-002", 1)
    lines = script(finding.steps, expected=finding.expected)
    text = "\n".join(lines)
    assert lines[0].startswith("# The sequence, step by step: paste it into bash")
    assert any(line.startswith(': "${BASE:?export BASE=') for line in lines)  # in-process
    assert re.search(r"^USER_1='sc-user-[0-9a-f]{12}'$", text, re.M)
    # A session id a create minted is captured from its answer, and used after.
    assert re.search(r"^SESSION_1=\$\(curl -sS -X POST .*\| python3 -c ", text, re.M)
    assert '"${BASE}/users/${USER_1}/sessions/${SESSION_1}"' in text
    numbers = [int(m) for m in re.findall(r"^# (\d+)\. ", text, re.M)]
    assert numbers == list(range(1, len(finding.steps) + 1))
    assert lines[-2].endswith(f"; expected: {finding.expected}")
    assert lines[-1].startswith("curl -sS -i -X GET ")  # the list that still shows it
    # Every value the server minted is a variable: none is written out literally.
    minted = {s.body_json()["session_id"] for s in finding.steps if s.status == 201}  # type: ignore[index]
    assert not any(value in text for value in minted)


@pytest.mark.slow  # four explorations
def test_replay_by_seed_sends_the_same_sequence() -> None:
    first = _failed_finding(RunCacheOutlivesDelete, "STATE-001", 2)
    again = _failed_finding(RunCacheOutlivesDelete, "STATE-001", 2)
    assert script(first.steps) == script(again.steps)


@pytest.mark.slow  # a stateful exploration over a socket, through the CLI and every report
def test_the_console_and_every_report_carry_the_script(tmp_path: Path) -> None:
    app = RunCacheOutlivesDelete(ReferenceConfig(provision_seconds=0.1))
    with serve_in_thread(app) as server:
        report = tmp_path / "run.json"
        markdown = tmp_path / "run.md"
        code, out = _cli(
            [
                "check",
                server.url,
                "--seed",
                "1",
                "--clause",
                "STATE-001",
                "--report-json",
                str(report),
                "--report-markdown",
                str(markdown),
            ]
        )
    assert code == 1
    assert "  Steps:     the sequence that shows it, as a shell script:" in out
    assert re.search(r"^ {13}SESSION_1=\$\(curl ", out, re.M)
    assert "--seed 1 --clause STATE-001" in out  # replayable by seed
    data = json.loads(report.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    (finding,) = data["clauses"][0]["findings"]
    assert finding["script"].startswith("# The sequence, step by step")
    assert "${SESSION_1}" in finding["script"]
    assert "${SESSION_1}" in markdown.read_text(encoding="utf-8")
    code, rendered = _cli(["report", str(report), "--format", "markdown"])
    assert code == 0
    assert finding["script"].splitlines()[-1] in rendered


def _cli(argv: list[str]) -> tuple[int, str]:
    """The real CLI in a subprocess, as a user runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "conformance.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout


@pytest.mark.socket
@pytest.mark.slow  # a stateful exploration over a socket, then its script replayed by bash
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_script_run_by_bash_shows_the_bug(tmp_path: Path) -> None:
    token = "paste-token-1e4a"
    app = RunCacheOutlivesDelete(ReferenceConfig(provision_seconds=0.3, token=token))
    with serve_in_thread(app) as server, Target(server.url, token=token) as target:
        (clause,) = select(["STATE-001"])
        result = run_clause(clause, ContractClient(target), Settings(seed=1, token=token))
        assert result.verdict is Verdict.FAILED, result.summary
        finding = result.findings[0]
        text = "\n".join(script(finding.steps, expected=finding.expected))
        assert token not in text  # the token is read from the environment
        path = tmp_path / "replay.sh"
        path.write_text(text + "\n", encoding="utf-8")
        env = {**os.environ, "SESSION_CONFORMANCE_TOKEN": token}
        ran = subprocess.run(
            ["bash", str(path)], capture_output=True, text=True, env=env, timeout=60
        )
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"^SESSION_1=[0-9a-f]{32}$", ran.stdout, re.M), ran.stdout
    # The last step, a run on the deleted session, answers 2xx or 409, not 404: the bug.
    final = ran.stdout.split("HTTP/1.1 ", 1)[1]
    assert not final.startswith("404"), ran.stdout
    assert final[:3] == str(finding.exchange.status)  # type: ignore[union-attr]


@pytest.mark.socket
@pytest.mark.slow  # an exploration, then its script run by bash with curl (about 20 s)
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_an_in_process_script_reads_base_and_runs_against_the_served_app(
    tmp_path: Path,
) -> None:
    """In-process there is no URL to print: the script reads ${BASE}, and once the app is
    served and BASE exported, it shows the bug there."""
    token = "paste-token-77c1"
    config = ReferenceConfig(provision_seconds=0.3, token=token)
    with Target(app=RunCacheOutlivesDelete(config), token=token) as target:
        (clause,) = select(["STATE-001"])
        result = run_clause(clause, ContractClient(target), Settings(seed=1, token=token))
    assert result.verdict is Verdict.FAILED, result.summary
    finding = result.findings[0]
    text = "\n".join(script(finding.steps, expected=finding.expected))
    assert "reference.test" not in text
    path = tmp_path / "replay.sh"
    path.write_text(text + "\n", encoding="utf-8")
    env = {**os.environ, "SESSION_CONFORMANCE_TOKEN": token}
    env.pop("BASE", None)
    unset = subprocess.run(["bash", str(path)], capture_output=True, text=True, env=env, timeout=60)
    assert unset.returncode != 0
    assert "export BASE=" in unset.stderr  # says what to do, sends nothing
    with serve_in_thread(RunCacheOutlivesDelete(config)) as server:
        ran = subprocess.run(["bash", str(path)], capture_output=True, text=True,
                             env={**env, "BASE": server.url}, timeout=60)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    final = ran.stdout.split("HTTP/1.1 ", 1)[1]
    assert not final.startswith("404"), ran.stdout


# -- budgets and honesty ------------------------------------------------------------------


def test_the_budget_flags_scale_the_exploration(reference: Target) -> None:
    (clause,) = select(["STATE-001"])

    def exploration(**overrides: object) -> tuple[int, int]:
        ctx = CheckContext(clause, ContractClient(reference), RUNS.settings(6, **overrides), 0)
        found = explore(ctx)
        return found.sequences, found.steps

    sequences, steps = exploration(max_steps=7, max_examples=3)
    assert MIN_SEQUENCES <= sequences < 2 * MIN_SEQUENCES  # at least 10, however low
    assert steps <= sequences * 7 * 2  # a write may be followed by one read in its step
    sequences, steps = exploration(max_steps=7, max_examples=40)
    assert sequences >= 40


def test_a_clause_the_exploration_never_judged_is_an_error_not_a_pass(reference: Target) -> None:
    client = ContractClient(reference)
    settings = RUNS.settings(7, max_steps=1, max_examples=1)
    results = {c.id: run_clause(c, client, settings) for c in select(STATE)}
    (clause,) = select(["STATE-001"])
    exploration = explore(CheckContext(clause, client, settings, 0))
    for clause_id, result in results.items():
        judged = exploration.judged.get(clause_id, 0)
        if judged == 0:
            assert result.verdict is Verdict.ERROR, (clause_id, result.summary)
            assert "raise --max-examples or --max-steps" in result.summary
        else:
            assert result.verdict is Verdict.PASSED, (clause_id, result.summary)


def test_one_exploration_decides_the_whole_family(reference: Target) -> None:
    client = ContractClient(reference)
    settings = RUNS.settings(8)
    mark = reference.mark()
    first = run_clause(select(["STATE-004"])[0], client, settings)
    sent = len(reference.since(mark))
    mark = reference.mark()
    others = [run_clause(c, client, settings) for c in select(STATE) if c.id != "STATE-004"]
    assert first.verdict is Verdict.PASSED
    assert sent > 100
    assert all(r.verdict is Verdict.PASSED for r in others)
    assert len(reference.since(mark)) == 0  # the others read what the first found
    assert all("one exploration for the stateful family" in r.summary for r in others)


def test_sessions_the_exploration_made_are_deleted() -> None:
    app = create_app(RUNS.config(provision_seconds=0))
    with RUNS.in_process(app) as target:
        result = RUNS.run(target, "STATE-001", 9)
        assert result.verdict is Verdict.PASSED
        assert len(app.store) == 0


def test_a_mutant_with_many_faults_reports_each_clause_once() -> None:
    class RunsForgetEverything(ReferenceApp):
        """Turns never count, and a deleted session still reads back."""

        def record_turn(self, session: Session) -> Session:
            return session

        def delete(self, user_id: str, session_id: str) -> bool:
            return self.lookup(user_id, session_id) is not None

    app = RunsForgetEverything(ReferenceConfig(provision_seconds=0.1))
    with Target(app=app) as target:
        results = _run_all(target, 1)
    assert results["STATE-003"].verdict is Verdict.FAILED
    assert results["STATE-001"].verdict is Verdict.FAILED
    # Each fault is blamed on its own clause only: metadata and sentinels stay sound.
    assert results["STATE-004"].verdict is Verdict.PASSED, results["STATE-004"].summary
    assert results["STATE-007"].verdict is Verdict.PASSED, results["STATE-007"].summary


# -- its budget (--stateful-budget) ------------------------------------------------------


def test_a_spent_budget_explores_nothing_and_decides_nothing(reference: Target) -> None:
    """A budget already spent when the exploration starts: no sequence, and each clause
    is undecided (error), saying the budget ended it, never passed."""
    mark = reference.mark()
    results = _run_all(reference, 8, stateful_budget=1e-9)
    assert {r.verdict for r in results.values()} == {Verdict.ERROR}
    for result in results.values():
        assert "0 sequence(s)" in result.summary
        assert "the --stateful-budget of 1e-09s ended it" in result.summary
        assert "raise --stateful-budget" in result.summary
    sent = [e for e in reference.since(mark) if e.role not in (None, "create", "status", "delete")]
    assert sent == []  # the lanes' ready sessions made and cleaned up, nothing explored


def test_a_budget_the_exploration_fits_in_changes_nothing(reference: Target) -> None:
    """A budget far beyond what the exploration takes: the same verdicts and the same
    requests as without one."""
    first = _run_all(reference, 8)
    mark = reference.mark()
    within = _run_all(reference, 8, stateful_budget=3600.0)
    assert {c: r.verdict for c, r in within.items()} == {c: r.verdict for c, r in first.items()}
    assert all(r.verdict is Verdict.PASSED for r in within.values())
    assert "ended it" not in within["STATE-001"].summary
    assert len(reference.since(mark)) > 100  # explored again: the budget is in the key
