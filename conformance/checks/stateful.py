"""Stateful: the invariants that hold across any sequence of requests (STATE-*).

All seven clauses are decided by one model-based exploration (:mod:`conformance.stateful`,
its model in :mod:`conformance.model`): random interleavings of every role for two users,
each answer judged against what the contract says must be true after everything before
it. The first of these clauses to run explores; the others read what it found (same
target, same settings, same seed: the same requests). A violation is reported with the
shrunk sequence of requests that shows it, as a shell script of curl commands.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance import model
from conformance.checks import check
from conformance.context import CheckContext, Undecided
from conformance.exploration import explore
from conformance.records import Finding


def _decide(ctx: CheckContext, clause_id: str) -> Iterator[Finding]:
    exploration = explore(ctx)
    finding = exploration.findings.get(clause_id)
    if finding is not None:
        yield finding
        return
    if exploration.error is not None:
        raise exploration.error
    judged = exploration.judged.get(clause_id, 0)
    shape = (
        f"{exploration.sequences} sequence(s) of up to {ctx.settings.max_steps} steps, "
        f"{exploration.steps} requests in {exploration.seconds:.1f}s"
    )
    if exploration.cut_by_budget:
        shape += f"; the --stateful-budget of {ctx.settings.stateful_budget:g}s ended it"
    if judged == 0:
        more = (
            "raise --stateful-budget"
            if exploration.cut_by_budget
            else "raise --max-examples or --max-steps"
        )
        raise Undecided(
            f"the stateful exploration ({shape}) never met an answer this clause judges; {more}"
        )
    ctx.summary = (
        f"{judged} answer(s) judged, no violation (one exploration for the stateful "
        f"family: {shape})"
    )


@check(model.NOT_FOUND)
def absent_ids_are_404_in_any_sequence(ctx: CheckContext) -> Iterator[Finding]:
    yield from _decide(ctx, model.NOT_FOUND)


@check(model.LIVE)
def live_sessions_answer_in_any_sequence(ctx: CheckContext) -> Iterator[Finding]:
    yield from _decide(ctx, model.LIVE)


@check(model.TURNS)
def turns_count_runs_in_any_sequence(ctx: CheckContext) -> Iterator[Finding]:
    yield from _decide(ctx, model.TURNS)


@check(model.METADATA)
def metadata_survives_any_sequence(ctx: CheckContext) -> Iterator[Finding]:
    yield from _decide(ctx, model.METADATA)


@check(model.READINESS)
def readiness_is_final_in_any_sequence(ctx: CheckContext) -> Iterator[Finding]:
    yield from _decide(ctx, model.READINESS)


@check(model.CREATE)
def creates_are_judged_in_any_sequence(ctx: CheckContext) -> Iterator[Finding]:
    yield from _decide(ctx, model.CREATE)


@check(model.SENTINEL)
def sentinels_change_nothing_in_any_sequence(ctx: CheckContext) -> Iterator[Finding]:
    yield from _decide(ctx, model.SENTINEL)
