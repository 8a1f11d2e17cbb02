"""Side by side on the zoo: session-conformance's CLI and schemathesis's ``st run``.

Each subject (the reference, then each mutant of ``fixtures/broken``) is served by uvicorn
on 127.0.0.1 as the mutation score serves it (:mod:`fixtures.score`: bearer token, CORS
origin, 0.1 s provisioning) and checked by both tools, one after the other, on the same
kind of server. session-conformance catches a mutant when a clause fails on it (the
mutation score's own verdict). schemathesis catches it when it reports a failure (check
code and operation) that it does not also report on the reference: what it reports on the
reference itself is its false-positive baseline, and would "catch" every mutant.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks.measure import SchemathesisRun, run_schemathesis
from conformance.reference import ReferenceConfig
from conformance.serving import serve_in_thread
from fixtures.broken import ORIGIN, TOKEN
from fixtures.score import Outcome, ScoreSettings, Subject, score_one, subjects

#: The mutants ``--quick`` compares (a spread of families; the reference is always in).
QUICK_MUTANTS = (
    "HtmlErrorPages",
    "NeverReady",
    "LookupByIdOnly",
    "RunAcceptsMadeUpIds",
    "EpochCreatedAt",
    "NoTtlRange",
    "FramesWithoutBlankLine",
    "RunCacheOutlivesDelete",
)


@dataclass(frozen=True, slots=True)
class Pair:
    """One subject, checked by both tools."""

    subject: Subject
    ours: Outcome
    theirs: SchemathesisRun
    #: What schemathesis reported here and not on the reference.
    new_failures: frozenset[tuple[str, str]]

    @property
    def st_caught(self) -> bool:
        return bool(self.new_failures)


def compare(
    names: Sequence[str],
    settings: ScoreSettings,
    *,
    spec: Path,
    st_examples: int,
    jobs: int = 1,
    progress: Callable[[str], None] = lambda line: None,
) -> list[Pair]:
    """Check the reference and ``names`` (all mutants when empty) with both tools."""
    for name in ("conformance.reference", "uvicorn.error"):  # mutants crash; st sends junk
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    chosen = [s for s in subjects(names) if s.family != "conformant"]
    reference, mutants = chosen[0], chosen[1:]
    first = _one(reference, settings, spec, st_examples, frozenset())
    baseline = first.theirs.failures
    progress(_line(first, 0, len(chosen)))
    done = 1

    def one(subject: Subject) -> Pair:
        nonlocal done
        pair = _one(subject, settings, spec, st_examples, baseline)
        done += 1
        progress(_line(pair, done - 1, len(chosen)))
        return pair

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return [first, *pool.map(one, mutants)]


def _one(
    subject: Subject,
    settings: ScoreSettings,
    spec: Path,
    st_examples: int,
    baseline: frozenset[tuple[str, str]],
) -> Pair:
    ours = score_one(subject, settings)
    config = ReferenceConfig(
        provision_seconds=settings.provision_seconds, token=TOKEN, cors_origin=ORIGIN
    )
    with serve_in_thread(subject.app(config)) as server:
        theirs = run_schemathesis(spec, server.url, max_examples=st_examples, seed=settings.seed)
    new = frozenset() if subject.control else theirs.failures - baseline
    return Pair(subject, ours, theirs, new)


def verdicts(pair: Pair) -> tuple[str, str]:
    """What each tool made of the subject: caught / missed, or for the reference clean /
    flags (what it reported on a conformant server)."""
    if pair.subject.control:
        ours = "flags it" if pair.ours.caught else "clean"
        theirs = f"flags {len(pair.theirs.failures)}" if pair.theirs.failures else "clean"
    else:
        ours = "caught" if pair.ours.caught else "MISSED"
        theirs = "caught" if pair.st_caught else "missed"
    if pair.ours.problem is not None:
        ours = f"problem: {pair.ours.problem}"
    return ours, theirs


def _line(pair: Pair, index: int, total: int) -> str:
    ours, theirs = verdicts(pair)
    return (
        f"[{index + 1:>3}/{total}] {pair.subject.name:<34} session-conformance {ours:<7} "
        f"{pair.ours.seconds:5.1f}s   st {theirs:<7} {pair.theirs.wall_seconds:5.1f}s "
        f"({pair.theirs.requests} requests)"
    )


@dataclass(frozen=True, slots=True)
class Tally:
    mutants: int
    ours_caught: int
    theirs_caught: int
    both: int
    ours_seconds: float
    theirs_seconds: float
    ours_only: tuple[str, ...]
    theirs_only: tuple[str, ...]


def tally(pairs: Sequence[Pair]) -> Tally:
    mutants = [p for p in pairs if not p.subject.control]
    ours = {p.subject.name for p in mutants if p.ours.caught and p.ours.problem is None}
    theirs = {p.subject.name for p in mutants if p.st_caught}
    return Tally(
        mutants=len(mutants),
        ours_caught=len(ours),
        theirs_caught=len(theirs),
        both=len(ours & theirs),
        ours_seconds=sum(p.ours.seconds for p in mutants),
        theirs_seconds=sum(p.theirs.wall_seconds for p in mutants),
        ours_only=tuple(sorted(ours - theirs)),
        theirs_only=tuple(sorted(theirs - ours)),
    )
