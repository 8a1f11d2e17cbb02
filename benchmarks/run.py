"""The benchmark: what a run costs, against the floor of the stack and against schemathesis.

    python -m benchmarks                 # everything; writes benchmarks/RESULTS.md (~15 min)
    python -m benchmarks --quick         # fewer repeats, a sample of mutants (~3 min)
    python -m benchmarks --only-latency  # only the remote cases; rewrites their section
    nox -s bench [-- --quick]

In one run, on this machine: (1) the full default check (``session-conformance check URL``,
every clause, 25 examples) against the reference served by ``session-conformance serve
--provision-seconds 0`` on 127.0.0.1, several times: wall seconds, requests, requests per
second, peak RSS; (2) the very exchanges of that run (``check --record-exchanges``) sent
again by a bare httpx loop against the same server, and the ratio harness / bare per
request; (3) schemathesis's ``st run`` (all checks, the same examples per operation,
database off, seeded, one worker) against the contract and the same server; (4) how a run's
cost grows with ``--max-examples``, and what clause families run in parallel could gain
(the families shared out across N CLI processes at once); (5) both tools through a proxy
that delays every request by 40 and 200 ms, a remote target (:mod:`benchmarks.remote`);
(6) both tools against the reference and every mutant of the zoo, side by side. Figures
are printed and written to Markdown, never asserted.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import (
    HarnessRun,
    Machine,
    Replay,
    SchemathesisRun,
    SplitRun,
    clause_seconds,
    machine,
    replay,
    run_schemathesis,
    served_reference,
    time_check,
    time_split,
)
from benchmarks.remote import (
    DELAYS_MS,
    QUICK_CLAUSES,
    QUICK_DELAYS_MS,
    QUICK_ST_EXAMPLES,
    ST_WORKERS,
    LatencyPlan,
    LatencyResults,
    measure_latency,
    offers,
    variants,
)
from benchmarks.render import latency_section, render, splice
from benchmarks.versus import QUICK_MUTANTS, Pair, compare
from fixtures.score import ScoreSettings

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "session-contract.openapi.yaml"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SEED = 20261121


@dataclass(frozen=True, slots=True)
class Plan:
    """What one benchmark run measures."""

    repeats: int
    examples: tuple[int, ...]
    workers: tuple[int, ...]
    st_examples: int
    mutants: tuple[str, ...]  # empty: the whole zoo
    mutant_scope: str
    clauses: tuple[str, ...]  # empty: every clause
    jobs: int
    latency: LatencyPlan | None  # None: no remote cases
    seed: int = SEED

    def check_flags(self, *, max_examples: int = 25, clauses: bool = True) -> list[str]:
        flags = ["--seed", str(self.seed)]
        if max_examples != 25:
            flags += ["--max-examples", str(max_examples)]
        if self.clauses and clauses:
            flags += ["--clause", *self.clauses]
        return flags


@dataclass(frozen=True, slots=True)
class Point:
    """Medians of the runs at one setting."""

    label: str
    runs: tuple[HarnessRun, ...]

    @property
    def run_seconds(self) -> float:
        return statistics.median(r.run_seconds for r in self.runs)

    @property
    def wall_seconds(self) -> float:
        return statistics.median(r.wall_seconds for r in self.runs)

    @property
    def requests(self) -> int:
        return int(statistics.median(r.requests for r in self.runs))

    @property
    def peak_rss_mib(self) -> float:
        return statistics.median(r.peak_rss_mib for r in self.runs)

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.run_seconds if self.run_seconds else 0.0


@dataclass(frozen=True, slots=True)
class Results:
    machine: Machine
    plan: Plan
    command: str
    default: Point
    replays: tuple[Replay, ...]
    schemathesis: tuple[SchemathesisRun, ...]
    examples: tuple[tuple[int, Point], ...]
    splits: tuple[SplitRun, ...]
    pairs: tuple[Pair, ...]
    latency: LatencyResults | None
    seconds: float

    @property
    def bare_seconds(self) -> float:
        return statistics.median(r.seconds for r in self.replays)

    @property
    def ratio(self) -> float:
        """Harness seconds per request over bare-replay seconds per request."""
        harness = self.default.run_seconds / max(1, self.default.requests)
        bare = self.bare_seconds / max(1, self.replays[0].requests)
        return harness / bare if bare else 0.0


def plan_of(args: argparse.Namespace) -> Plan:
    quick = args.quick
    return Plan(
        repeats=args.repeats or (1 if quick else 5),
        examples=tuple(args.examples or ((5, 25, 50) if quick else (10, 25, 50, 100))),
        workers=tuple(args.workers or ((1, 2) if quick else (1, 2, 4))),
        st_examples=args.st_examples,
        mutants=tuple(args.mutant or (QUICK_MUTANTS if quick else ())),
        mutant_scope=args.mutant_scope or ("trips" if quick else "full"),
        clauses=tuple(args.clause or ()),
        jobs=args.jobs,
        latency=latency_plan(args),
    )


def latency_plan(args: argparse.Namespace) -> LatencyPlan | None:
    if args.no_latency:
        return None
    quick = args.quick
    concurrent = offers("--workers")
    return LatencyPlan(
        delays_ms=tuple(args.latency or (QUICK_DELAYS_MS if quick else DELAYS_MS)),
        clauses=tuple(args.latency_clause or (QUICK_CLAUSES if quick else args.clause or ())),
        variants=variants(args.check_args or (), concurrent_engine=concurrent),
        st_workers=args.st_workers,
        st_examples=min(args.st_examples, QUICK_ST_EXAMPLES) if quick else args.st_examples,
        seed=SEED,
        concurrent_engine=concurrent,
    )


def measure(plan: Plan, command: str, say: Progress) -> Results:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sc-bench-") as tmp:
        workdir = Path(tmp)
        say("each run against a fresh reference: `serve --provision-seconds 0` on 127.0.0.1")
        runs = []
        for i in range(plan.repeats):
            with served_reference() as url:
                run = time_check(url, plan.check_flags(), workdir, f"default-{i}")
            say(
                f"check #{i + 1}: {run.run_seconds:.2f}s run, {run.wall_seconds:.2f}s wall, "
                f"{run.requests} requests, {run.requests_per_second:.0f} req/s, "
                f"peak RSS {run.peak_rss_mib:.0f} MiB, exit {run.exit_code}"
            )
            runs.append(run)
        default = Point("default", tuple(runs))
        replays = []
        for i in range(plan.repeats):
            with served_reference() as url:
                bare = replay(runs[0].log, url)
            say(
                f"bare replay #{i + 1}: {bare.requests} requests in {bare.seconds:.2f}s, "
                f"{bare.requests_per_second:.0f} req/s ({bare.status_changed} statuses differ)"
            )
            replays.append(bare)
        theirs = []
        for i in range(max(1, min(plan.repeats, 3))):
            with served_reference() as url:
                st = run_schemathesis(SPEC, url, max_examples=plan.st_examples, seed=plan.seed)
            say(
                f"st run #{i + 1}: {st.wall_seconds:.2f}s, {st.requests} requests, "
                f"{st.test_cases} test cases, exit {st.exit_code}, "
                f"failures {sorted(st.failures)}"
            )
            theirs.append(st)
        scaling = _points(plan, workdir, say, plan.examples)
        parallel = _splits(plan, workdir, say, clause_seconds(runs[0].report))
        settings = ScoreSettings(seed=7, scope=plan.mutant_scope)
        remote = None if plan.latency is None else measure_latency(plan.latency, SPEC, workdir, say)
        pairs = compare(
            plan.mutants, settings, spec=SPEC, st_examples=plan.st_examples, jobs=plan.jobs,
            progress=say,
        )  # fmt: skip
    return Results(
        machine=machine(),
        plan=plan,
        command=command,
        default=default,
        replays=tuple(replays),
        schemathesis=tuple(theirs),
        examples=scaling,
        splits=parallel,
        pairs=tuple(pairs),
        latency=remote,
        seconds=time.perf_counter() - started,
    )


class Progress:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def __call__(self, line: str) -> None:
        if not self.quiet:
            print(line, flush=True)


def _points(
    plan: Plan, workdir: Path, say: Progress, values: Sequence[int]
) -> tuple[tuple[int, Point], ...]:
    points = []
    repeats = max(1, min(plan.repeats, 3))
    for value in values:
        flags = plan.check_flags(max_examples=value)
        runs = []
        for i in range(repeats):
            with served_reference() as url:
                runs.append(time_check(url, flags, workdir, f"examples-{value}-{i}"))
        point = Point(f"--max-examples {value}", tuple(runs))
        say(
            f"--max-examples {value}: {point.run_seconds:.2f}s run, {point.requests} requests, "
            f"{point.requests_per_second:.0f} req/s"
        )
        points.append((value, point))
    return tuple(points)


def _splits(
    plan: Plan,
    workdir: Path,
    say: Progress,
    measured: Sequence[tuple[str, str, float]],
) -> tuple[SplitRun, ...]:
    """The clause families shared out across N processes run at once (balanced by the
    seconds each family took in the first default run), for each N of ``plan.workers``."""
    splits = []
    for n in plan.workers:
        groups = balance(measured, n)
        runs = []
        for i in range(max(1, min(plan.repeats, 3))):
            with served_reference() as url:
                flags = plan.check_flags(clauses=False)
                runs.append(time_split(url, groups, flags, workdir, f"split-{n}-{i}"))
        split = sorted(runs, key=lambda r: r.wall_seconds)[(len(runs) - 1) // 2]  # median
        say(
            f"{n} process(es) at once: {split.wall_seconds:.2f}s wall, "
            f"slowest run {split.slowest_run_seconds:.2f}s, {split.requests} requests"
        )
        splits.append(split)
    return tuple(splits)


def balance(measured: Sequence[tuple[str, str, float]], n: int) -> list[list[str]]:
    """Whole families into ``n`` groups of about equal seconds (longest first), each group
    in registry order; a family is never split (its clauses may share one exploration)."""
    families: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    for clause_id, family, took in measured:
        families.setdefault(family, []).append(clause_id)
        seconds[family] = seconds.get(family, 0.0) + took
    groups: list[list[str]] = [[] for _ in range(max(1, n))]
    loads = [0.0] * len(groups)
    for family in sorted(families, key=lambda f: -seconds[f]):
        lightest = loads.index(min(loads))
        groups[lightest] += families[family]
        loads[lightest] += seconds[family]
    order = {clause_id: i for i, (clause_id, _, _) in enumerate(measured)}
    return [sorted(g, key=order.__getitem__) for g in groups if g]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="1 repeat, a sample of mutants")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 5; 1 quick)")
    parser.add_argument("--examples", type=int, action="append", help="a --max-examples point")
    parser.add_argument(
        "--workers", type=int, action="append", help="a point of N processes at once"
    )
    parser.add_argument("--st-examples", type=int, default=25, help="st run --max-examples")
    parser.add_argument("--mutant", action="append", help="only this mutant (repeatable)")
    parser.add_argument("--mutant-scope", choices=("full", "trips"), help="clauses per mutant")
    parser.add_argument("--clause", action="append", help="only this clause (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="subjects of the zoo at a time")
    remote = parser.add_argument_group("remote target", "both tools through a delaying proxy")
    remote.add_argument(
        "--latency", type=float, action="append", metavar="MS",
        help="a latency to measure, ms added to every request (repeatable; default 40 and "
        "200; 40 with --quick)",
    )  # fmt: skip
    remote.add_argument("--no-latency", action="store_true", help="no remote cases")
    remote.add_argument(
        "--only-latency", action="store_true",
        help="measure only the remote cases and rewrite their section of --output",
    )  # fmt: skip
    remote.add_argument(
        "--latency-clause", action="append", metavar="ID",
        help="only this clause in the remote cases (repeatable; default: as --clause; "
        f"{' '.join(QUICK_CLAUSES)} with --quick)",
    )  # fmt: skip
    remote.add_argument(
        "--check-args", action="append", metavar="ARGS",
        help="extra arguments of the check, measured beside its default, e.g. "
        "'--workers 8' (repeatable; default: '--workers 1' if the CLI offers it)",
    )  # fmt: skip
    remote.add_argument(
        "--st-workers", type=int, default=ST_WORKERS,
        help=f"st run --workers in the remote cases (default {ST_WORKERS})",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=RESULTS, help="the Markdown to write")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    if args.only_latency and args.no_latency:
        parser.error("--only-latency and --no-latency exclude each other")
    shown = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "-m", "benchmarks", *shown])
    say = Progress(args.quiet)
    if args.only_latency:
        return _only_latency(args, command, say)
    plan = plan_of(args)
    results = measure(plan, command, say)
    text = render(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text.split("\n## ", 2)[1].split("\n", 1)[1].strip() if "\n## " in text else text)
    print(f"\nwrote {args.output} ({results.seconds:.0f}s in all)")
    return 0


def _only_latency(args: argparse.Namespace, command: str, say: Progress) -> int:
    """Measure the remote cases alone and put their section into ``--output`` (the rest of
    the file as it was)."""
    plan = latency_plan(args)
    assert plan is not None
    with tempfile.TemporaryDirectory(prefix="sc-bench-") as tmp:
        remote = measure_latency(plan, SPEC, Path(tmp), say)
    section = latency_section(remote, command)
    old = args.output.read_text(encoding="utf-8") if args.output.exists() else "# Benchmarks\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(splice(old, section), encoding="utf-8")
    print(section.strip())
    print(f"\nwrote {args.output}")
    return 0
