"""How a client polls a session's status: never in a tight loop (CLIENT-004), backing off
(CLIENT-005), stopping at a final answer (CLIENT-007), one poller at a time (CLIENT-008).

A *poll* is a request to the layout's status role. Polls are grouped by the user and the
session id they name, lost ids included: a tight loop on ``undefined`` is still a tight
loop. An *interval* is the time from the end of the mock's answer to one poll to the
start of the next poll of the same session: what the client itself waited (network time
only lengthens it). Intervals after an answer with ``Retry-After`` or a 5xx belong to
CLIENT-006 and CLIENT-012 and are not judged here; backoff (CLIENT-005) is judged on the
polls up to the first final answer, the wait it is about.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from conformance.client_checks import client_check
from conformance.client_checks.context import ClientCheckContext, ms
from conformance.client_checks.view import FINAL_PHASES, Step
from conformance.context import NotApplicable
from conformance.records import Finding

PollKey = tuple[str, str]


def poll_groups(ctx: ClientCheckContext) -> dict[PollKey, list[Step]]:
    """Status polls by ``(user, session id as sent)``, in arrival order."""
    groups: dict[PollKey, list[Step]] = {}
    for step in ctx.view.of_role("status"):
        if step.session_id is not None:
            groups.setdefault((step.user_id or "", step.session_id), []).append(step)
    return groups


def _repeated(ctx: ClientCheckContext) -> dict[PollKey, list[Step]]:
    groups = {key: polls for key, polls in poll_groups(ctx).items() if len(polls) > 1}
    if not groups:
        raise NotApplicable("no session was polled more than once: no interval to judge")
    return groups


def _paced_by_server(step: Step) -> bool:
    """The answer set the pace itself (Retry-After, or a 5xx judged by CLIENT-012)."""
    return step.retry_after is not None or (step.status or 0) >= 500


def intervals(polls: list[Step]) -> list[tuple[Step, Step, float] | None]:
    """``(previous, next, seconds)`` per pair of polls; None where the client overlapped
    polls or the server set the pace (a break in the sequence)."""
    found: list[tuple[Step, Step, float] | None] = []
    for before, after in itertools.pairwise(polls):
        gap = after.started - before.ended
        found.append(None if gap < 0 or _paced_by_server(before) else (before, after, gap))
    return found


@client_check("CLIENT-004")
def waits_between_polls(ctx: ClientCheckContext) -> Iterator[Finding]:
    least = ctx.settings.min_poll_interval
    for (_, sid), polls in _repeated(ctx).items():
        ctx.judge(*polls)
        pairs = [pair for pair in intervals(polls) if pair is not None]
        short = [pair for pair in pairs if pair[2] < least]
        if not short:
            continue
        before, after, gap = min(short, key=lambda pair: pair[2])
        yield ctx.finding(
            f"{after.describe()} came {ms(gap)} after the answer to the poll before it; "
            f"{len(short)} of {len(pairs)} intervals polling {sid!r} were shorter than "
            f"{ms(least)} (a tight loop)",
            f"at least {ms(least)} between the answer to one poll and the next poll of "
            "the same session",
            after,
            before,
        )


@client_check("CLIENT-005")
def backs_off(ctx: ClientCheckContext) -> Iterator[Finding]:
    settings = ctx.settings
    window, growth, plateau = (
        settings.backoff_window,
        settings.backoff_growth,
        settings.backoff_plateau,
    )
    judged = 0
    for (_, sid), every in poll_groups(ctx).items():
        polls = _until_final(every)
        if len(polls) <= window:
            continue
        judged += 1
        ctx.judge(*polls)
        run: list[tuple[Step, Step, float]] = []
        for pair in [*intervals(polls), None]:
            if pair is not None and pair[2] < plateau:
                run.append(pair)
                continue
            flat = _flat_window(run, window, growth)
            run = []
            if flat is None:
                continue
            shown = ", ".join(ms(gap) for _, _, gap in flat)
            yield ctx.finding(
                f"polling {sid!r}, {window} intervals in a row did not grow: {shown} "
                f"(the last is less than {growth:g}x the first, and all are under "
                f"{ms(plateau)})",
                f"intervals that grow (over any {window} in a row below {ms(plateau)}, the "
                f"last at least {growth:g}x the first) until they reach {ms(plateau)}",
                flat[-1][1],
                flat[0][0],
            )
            break
    if not judged:
        raise NotApplicable(
            f"no session was polled more than {window} times: too few intervals to judge "
            "backoff (record with --mode slow)"
        )


def _until_final(polls: list[Step]) -> list[Step]:
    """The polls up to the first final answer: the wait that backoff is about (polls
    after it are CLIENT-007's)."""
    for index, poll in enumerate(polls):
        if poll.phase in FINAL_PHASES or poll.status == 404:
            return polls[: index + 1]
    return polls


def _flat_window(
    run: list[tuple[Step, Step, float]], window: int, growth: float
) -> list[tuple[Step, Step, float]] | None:
    for start in range(len(run) - window + 1):
        part = run[start : start + window]
        if part[-1][2] < growth * part[0][2]:
            return part
    return None


@client_check("CLIENT-007")
def stops_at_a_final_answer(ctx: ClientCheckContext) -> Iterator[Finding]:
    deletes = ctx.view.by_session("delete")
    judged = 0
    for key, polls in ctx.view.polls().items():
        stops = [p for p in polls if p.phase in FINAL_PHASES or p.status == 404]
        stops += [d for d in deletes.get(key, []) if d.status in (200, 404)]
        if not stops:
            continue
        judged += 1
        stop = min(stops, key=lambda s: s.ended)
        after = [p for p in polls if p.started >= stop.ended]
        ctx.judge(*polls)
        if not after:
            continue
        why = {
            "delete": "the client had deleted the session",
        }.get(stop.role or "", f"the answer showed {stop.phase or stop.status}")
        span = after[-1].started - stop.ended
        yield ctx.finding(
            f"{len(after)} more poll(s) of {key[1]!r} over {ms(span)} after {stop.describe()}, "
            f"when {why}",
            "no poll of a session once a poll showed Ready or Failed, answered 404, or the "
            "client deleted it",
            after[0],
            stop,
        )
    if not judged:
        raise NotApplicable(
            "no polled session reached a final answer (Ready, Failed, 404 or deleted) in "
            "the trace: nothing to stop at"
        )


@client_check("CLIENT-008")
def one_poller_per_session(ctx: ClientCheckContext) -> Iterator[Finding]:
    for (_, sid), polls in _repeated(ctx).items():
        ctx.judge(*polls)
        overlaps: list[tuple[Step, Step]] = []
        pending = polls[0]
        for poll in polls[1:]:
            if poll.started < pending.ended:
                overlaps.append((pending, poll))
            if poll.ended > pending.ended:
                pending = poll
        if not overlaps:
            continue
        first, second = overlaps[0]
        yield ctx.finding(
            f"{second.describe()} was sent while {first.describe()} still awaited its "
            f"answer; {len(overlaps)} poll(s) of {sid!r} overlapped another: more than one "
            "poller runs for this session",
            "one poll of a session at a time: the next only after the answer to the last",
            second,
            first,
        )
