"""Ctrl-C and SIGTERM end a run with exit 130 and its report, whenever they land.

The sweep sends SIGINT and SIGTERM to the real CLI (``check`` of the bundled reference,
in-process) at 30 points spread over the first 10 s of a run (the imports, the argument
parsing, the first requests, the clauses), and at 4 more inside the stateful exploration
(which a full run reaches only later). The clock
of each point starts when the CLI's handlers are in place (``SigCgt`` in
``/proc/PID/status``; before that the interpreter is still starting and a signal is
Python's), so wherever the signal lands, the assertion is the same: exit 130, a valid
JSON report holding the clauses decided, no traceback. The unit tests below pin the
mechanism, including the interrupt Python swallows in a gc callback.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from conformance import interruption
from conformance.contract import report_schema
from conformance.runner import select

ROOT = Path(__file__).resolve().parent.parent
#: Points of the sweep: dense at the start (imports, parsing, the first clauses), then
#: every second or so up to 10 s; the same points every run.
POINTS = tuple(round(10.0 * (i / 29) ** 2, 3) for i in range(30))
SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The stateful exploration comes late in a full run: these runs start with it (and
#: explore long enough to outlast the points), the signal landing inside it.
EXPLORATION = ("--clause", "STATE-001", "STATE-002", "STATE-003", "--max-examples", "500")
EXPLORATION_POINTS = (1.0, 2.0, 3.0, 4.0)
#: Runs at once (2 cores: each run is mostly waiting for sessions to provision).
PARALLEL = 4
#: Seconds each session of the reference provisions: the run lasts well past 10 s.
PROVISION = "2"
HANDLED = 1 << (signal.SIGTERM - 1)  # SigCgt bit: installed after SIGINT's


@dataclass(frozen=True, slots=True)
class Landing:
    """One run of the sweep: which signal, how long after the handlers, and the outcome."""

    signum: signal.Signals
    after: float
    code: int
    stderr: str
    report: dict[str, object] | None
    extra: tuple[str, ...] = ()

    @property
    def selected(self) -> int:
        clauses = [arg for arg in self.extra if "-" in arg and not arg.startswith("-")]
        return len(clauses) or len(select(None))

    def __str__(self) -> str:
        run = " ".join(self.extra) or "full run"
        return f"{self.signum.name} {self.after:.3f} s after the handlers ({run}): exit {self.code}"


def _handlers_installed(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & HANDLED)


def _land(signum: signal.Signals, after: float, report: Path, *extra: str) -> Landing:
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "check", "--seed", "7", "-q",
         "--provision-seconds", PROVISION, "--report-json", str(report), *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        give_up = time.monotonic() + 60
        while not _handlers_installed(process.pid):
            assert process.poll() is None, "the CLI ended before it installed its handlers"
            assert time.monotonic() < give_up, "the CLI never installed its handlers"
            time.sleep(0.001)
        time.sleep(after)
        process.send_signal(signum)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
    return Landing(signum, after, process.returncode, err, data, extra)


@pytest.fixture(scope="module")
def landings(tmp_path_factory: pytest.TempPathFactory) -> list[Landing]:
    folder = tmp_path_factory.mktemp("signals")
    runs = [(signum, after, ()) for after in POINTS for signum in SIGNALS]
    runs += [(signum, after, EXPLORATION) for after in EXPLORATION_POINTS for signum in SIGNALS]

    def land(index: int) -> Landing:
        signum, after, extra = runs[index]
        return _land(signum, after, folder / f"{index}.json", *extra)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(land, range(len(runs))))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/PID/status")
def test_every_signal_at_every_point_ends_130_with_a_report(landings: list[Landing]) -> None:
    assert len(landings) == (len(POINTS) + len(EXPLORATION_POINTS)) * len(SIGNALS)
    wrong = [f"{landing}: {landing.stderr[-300:]!r}" for landing in landings if landing.code != 130]
    assert wrong == [], "\n".join(wrong)
    for landing in landings:
        assert "Traceback" not in landing.stderr, landing
        assert "Exception ignored" not in landing.stderr, landing
        assert landing.report is not None, f"{landing}: no report"
        jsonschema.Draft202012Validator(report_schema()).validate(landing.report)
        clauses = landing.report["clauses"]
        notes = landing.report["notes"]
        assert isinstance(clauses, list)
        assert isinstance(notes, list)
        # Decided: a verdict reached (the clauses cut short are in the report, as error).
        count = sum(1 for c in clauses if isinstance(c, dict) and c["verdict"] != "error")
        decided = f"interrupted: {count} of {landing.selected} clauses decided"
        assert decided in notes, landing
        assert "session-conformance: interrupted" in landing.stderr, landing


# -- the mechanism ------------------------------------------------------------------------


@pytest.fixture
def handlers() -> Iterator[None]:
    with interruption.installed():
        yield


def _settle() -> None:
    """Run some bytecode, so that a pending signal handler runs here."""
    for _ in range(100):
        pass


@pytest.mark.usefixtures("handlers")
def test_a_signal_while_deferred_waits_for_the_first_checkpoint() -> None:
    _send(signal.SIGTERM)  # recorded, not raised: the imports, the parsing are not cut short
    assert interruption.interrupted()
    with interruption.acting():
        with pytest.raises(KeyboardInterrupt):
            interruption.checkpoint()
        interruption.checkpoint()  # raised once


def _send(signum: signal.Signals) -> None:
    os.kill(os.getpid(), signum)
    _settle()


@pytest.mark.usefixtures("handlers")
def test_a_signal_while_acting_raises_once_then_waits() -> None:
    with interruption.acting():
        with pytest.raises(KeyboardInterrupt):
            _send(signal.SIGINT)
        _send(signal.SIGINT)  # the run winds down: recorded only
        with pytest.raises(KeyboardInterrupt), interruption.acting():  # a clean-up asks
            _send(signal.SIGTERM)
    assert interruption.arrived() == (signal.SIGINT, signal.SIGINT, signal.SIGTERM)


@pytest.mark.usefixtures("handlers")
def test_an_interrupt_swallowed_in_a_gc_callback_is_raised_at_the_next_checkpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's case: the signal lands in hypothesis's gc callback, where Python prints
    "Exception ignored in: gc_callback ... KeyboardInterrupt" and drops it."""

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            signal.raise_signal(signal.SIGINT)
            _settle()  # the handler runs here, inside the callback

    with interruption.acting():
        gc.callbacks.append(callback)
        try:
            gc.collect()  # returns: the interrupt could not leave the callback
        finally:
            gc.callbacks.remove(callback)
        assert interruption.interrupted()
        with pytest.raises(KeyboardInterrupt):
            interruption.checkpoint()
    assert capsys.readouterr().err == ""  # no "Exception ignored ..."


@pytest.mark.usefixtures("handlers")
def test_the_runner_stops_after_a_signal_however_it_was_lost() -> None:
    with interruption.acting():
        with contextlib.suppress(KeyboardInterrupt):  # as C code clearing errors would
            _send(signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt):
            interruption.stop_if_interrupted()


def test_an_interrupt_that_left_an_exec_does_not_end_the_process_by_sigint(
    tmp_path: Path,
) -> None:
    """CPython remembers a KeyboardInterrupt that left an ``exec`` of a string, even one
    caught later, and under ``python -m`` ends the process by SIGINT (exit -2) whatever
    exit code was asked; the entry point makes it forget, so ``check`` exits 130."""
    (tmp_path / "interrupted_exec.py").write_text(
        "import sys\n"
        "from conformance import interruption\n"
        "with interruption.installed():\n"
        "    try:\n"
        "        exec('raise KeyboardInterrupt')\n"
        "    except KeyboardInterrupt:\n"
        "        pass\n"
        "sys.exit(130)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "interrupted_exec"]
    done = subprocess.run(command, cwd=tmp_path, env=env, check=False)
    assert done.returncode == 130


def test_without_the_handlers_nothing_changes() -> None:
    """The pytest plugin and tests that call the runner: Ctrl-C stays Python's."""
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    with interruption.acting(), interruption.held():
        interruption.hold()
        interruption.checkpoint()
    assert not interruption.interrupted()
