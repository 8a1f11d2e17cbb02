"""Progress on the console: a live display by clause family on a terminal, plain lines
everywhere else.

On an interactive terminal (standard output is a TTY, ``CI`` is not set and ``TERM`` is
not ``dumb``) a rich progress display shows a bar for the whole run — clauses done of
all, time elapsed, an estimate of the time left (the mean time per clause so far) and the
clause running now (:class:`~conformance.runner.ClauseStarted`) — and one bar per clause
family, with its passed / failed / undecided counts, while the console reporter's lines
scroll above it. Piped,
redirected, or under CI, the output is the console reporter's plain lines only: one per
clause as it finishes, then the summary. Either way the final text is the same.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text

from conformance.events import ClauseFinished, ClauseStarted, Event, RunFinished, RunStarted
from conformance.records import Verdict
from conformance.reporting.console import ConsoleReporter

#: The description of the bar for the whole run.
TOTAL = "all clauses"


class Reporter(Protocol):
    def handle(self, event: Event) -> None: ...


def live_wanted(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """A live display only where a person watches: a TTY, outside CI, on a capable terminal."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and not environ.get("CI") and environ.get("TERM", "") != "dumb"


@contextmanager
def console_reporter(
    stream: TextIO,
    *,
    verbose: bool = False,
    quiet: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Reporter]:
    """The reporter ``check`` prints with; the live display is stopped on the way out,
    whatever happened (a Ctrl-C included)."""
    env = os.environ if environ is None else environ
    if not live_wanted(stream, env):
        yield ConsoleReporter(stream, verbose=verbose, quiet=quiet)
        return
    live = LiveProgress(Console(file=stream, force_terminal=True), verbose=verbose, quiet=quiet)
    try:
        yield live
    finally:
        live.stop()


class _ConsoleLines(io.StringIO):
    """A text stream that hands each complete line to a rich console, so lines print
    above the live display instead of through it."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._console.print(Text(line), soft_wrap=True, highlight=False)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.write("\n")


class LiveProgress:
    """One bar per clause family under the console reporter's scrolling lines."""

    def __init__(self, console: Console, *, verbose: bool = False, quiet: bool = False) -> None:
        self.console = console
        self.inner = ConsoleReporter(_ConsoleLines(console), verbose=verbose, quiet=quiet)
        self.progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            _StateColumn(),
            console=console,
            transient=True,
            refresh_per_second=8,
        )
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, dict[Verdict, int]] = {}
        self._total: TaskID | None = None
        self._started = False

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.inner.handle(event)
            families: dict[str, int] = {}
            for clause in event.clauses:
                families[clause.family] = families.get(clause.family, 0) + 1
            self._total = self.progress.add_task(
                TOTAL, total=len(event.clauses), counts="", running=""
            )
            for family, total in families.items():
                self._counts[family] = dict.fromkeys(Verdict, 0)
                self._tasks[family] = self.progress.add_task(family, total=total, counts="")
            self.progress.start()
            self._started = True
        elif isinstance(event, ClauseStarted):
            if self._total is not None:
                self.progress.update(self._total, running=event.clause.id)
                self.progress.refresh()  # a clause may run for seconds: say so now
        elif isinstance(event, ClauseFinished):
            self.inner.handle(event)
            self._advance(event)
        elif isinstance(event, RunFinished):
            self.stop()
            self.inner.handle(event)

    def _advance(self, event: ClauseFinished) -> None:
        if self._total is not None:
            self.progress.update(self._total, advance=1, running="")
        family = event.result.family
        task = self._tasks.get(family)
        if task is None:
            return
        counts = self._counts[family]
        counts[event.result.verdict] += 1
        self.progress.update(task, advance=1, counts=_counts_text(counts))

    def stop(self) -> None:
        if self._started:
            self._started = False
            self.progress.stop()


class _StateColumn(ProgressColumn):
    """A family's verdict counts; for the whole run, elapsed, ETA and the clause running."""

    def render(self, task: Task) -> Text:
        if "running" not in task.fields:
            return Text(task.fields["counts"])
        elapsed = task.elapsed or 0.0
        done, total = task.completed, task.total or 0
        eta = "ETA -" if not done else f"ETA {_clock(elapsed / done * (total - done))}"
        running = task.fields["running"]
        now = f" · running {running}" if running else ""
        return Text(f"{_clock(elapsed)} elapsed · {eta}{now}")


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _counts_text(counts: Mapping[Verdict, int]) -> str:
    parts = [f"{counts[Verdict.PASSED]} passed"]
    if counts[Verdict.FAILED]:
        parts.append(f"{counts[Verdict.FAILED]} failed")
    if counts[Verdict.NOT_APPLICABLE]:
        parts.append(f"{counts[Verdict.NOT_APPLICABLE]} n/a")
    if counts[Verdict.ERROR]:
        parts.append(f"{counts[Verdict.ERROR]} error")
    return ", ".join(parts)
