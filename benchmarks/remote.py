"""The benchmark against a remote target: both tools through a delaying proxy.

At each latency (40 and 200 ms by default), with the reference served by ``session-
conformance serve --provision-seconds 0`` behind a :class:`~benchmarks.latency.
DelayingProxy` (every request reaches it that many ms late): (1) the full default check,
once per variant of extra check arguments (the CLI's default; ``--check-args`` adds
others, e.g. ``--workers 8``; when the installed CLI offers ``check --workers``, ``--workers
1`` is added by itself, the serial figure beside the concurrent one); (2) ``st run`` with
``--workers N`` on the same contract through the same proxy. Wall seconds and requests of
each, side by side. One run per case: through 200 ms the serial check takes minutes.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.latency import delaying
from benchmarks.measure import (
    HarnessRun,
    SchemathesisRun,
    run_schemathesis,
    served_reference,
    time_check,
)
from fixtures.score import cli_command

DELAYS_MS = (40.0, 200.0)
QUICK_DELAYS_MS = (40.0,)
#: The clauses of ``--quick``'s one latency case: a few lifecycle exchanges, a burst of
#: concurrent creates and a stream.
QUICK_CLAUSES = ("LIFE-001", "LIFE-003", "LIFE-007", "ID-005", "SSE-001")
#: ``st run --max-examples`` of ``--quick``'s latency case (at most).
QUICK_ST_EXAMPLES = 5
ST_WORKERS = 4
#: The serial variant, added when the CLI offers ``check --workers``.
SERIAL = "--workers 1"


@dataclass(frozen=True, slots=True)
class LatencyPlan:
    delays_ms: tuple[float, ...]
    clauses: tuple[str, ...]  # empty: every clause
    #: Extra arguments of each check run ("" is the CLI's default).
    variants: tuple[str, ...]
    st_workers: int
    st_examples: int
    seed: int
    #: Whether the CLI measured offers ``check --workers`` (else: the serial engine).
    concurrent_engine: bool

    def check_flags(self, variant: str) -> list[str]:
        flags = ["--seed", str(self.seed)]
        if self.clauses:
            flags += ["--clause", *self.clauses]
        return flags + shlex.split(variant)


@dataclass(frozen=True, slots=True)
class CheckThrough:
    """One check run through the proxy, with ``variant`` as its extra arguments."""

    variant: str
    run: HarnessRun


@dataclass(frozen=True, slots=True)
class LatencyPoint:
    delay_ms: float
    checks: tuple[CheckThrough, ...]
    schemathesis: SchemathesisRun


@dataclass(frozen=True, slots=True)
class LatencyResults:
    plan: LatencyPlan
    points: tuple[LatencyPoint, ...]


def offers(flag: str) -> bool:
    """Whether the installed CLI's ``check --help`` names ``flag``."""
    shown = subprocess.run(
        [*cli_command(), "check", "--help"], capture_output=True, text=True, check=False
    ).stdout
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", shown) is not None


def variants(given: Sequence[str], *, concurrent_engine: bool) -> tuple[str, ...]:
    """The CLI's default, then each of ``given``; with none given, ``--workers 1`` too when
    the CLI has a concurrent engine."""
    extra = [v.strip() for v in given if v.strip()]
    if not extra and concurrent_engine:
        extra = [SERIAL]
    return ("", *dict.fromkeys(extra))


def timeout_for(delay_ms: float) -> float:
    """Seconds one run may take through ``delay_ms`` before it is killed (generous: a serial
    full check sends about 3,600 requests)."""
    return 600.0 + 30.0 * delay_ms


def measure_latency(
    plan: LatencyPlan, spec: Path, workdir: Path, say: Callable[[str], None]
) -> LatencyResults:
    """Every case of ``plan``, each against a fresh reference behind a fresh proxy."""
    points = []
    for delay in plan.delays_ms:
        checks = []
        for i, variant in enumerate(plan.variants):
            with served_reference() as url, delaying(url, delay) as proxied:
                run = time_check(
                    proxied, plan.check_flags(variant), workdir, f"latency-{delay:g}-{i}",
                    timeout=timeout_for(delay),
                )  # fmt: skip
            say(
                f"{delay:g} ms, check {variant or '(default)'}: {run.wall_seconds:.1f}s wall, "
                f"{run.requests} requests, exit {run.exit_code}"
            )
            checks.append(CheckThrough(variant, run))
        with served_reference() as url, delaying(url, delay) as proxied:
            st = run_schemathesis(
                spec, proxied, max_examples=plan.st_examples, seed=plan.seed,
                workers=plan.st_workers, timeout=timeout_for(delay),
            )  # fmt: skip
        say(
            f"{delay:g} ms, st run --workers {plan.st_workers}: {st.wall_seconds:.1f}s wall, "
            f"{st.requests} requests, exit {st.exit_code}"
        )
        points.append(LatencyPoint(delay, tuple(checks), st))
    return LatencyResults(plan, tuple(points))
