"""Waiting when told to, and giving up in time: ``Retry-After`` (CLIENT-006), a pause
after a 5xx (CLIENT-012), the client's own deadline (CLIENT-009).

*The same request again* is the next request of the same role for the same session
(a poll after a poll), or for the same user when the role names no session (a create
after a create). The wait is measured from the end of the answer to the start of the
retry, so network time only ever lengthens it.

A client states its deadline for a session to become ready in the
``X-Client-Deadline-Ms`` header of its create (milliseconds), or for every session at
once with ``verify-client --deadline-ms``; the header wins. The deadline counts from
the start of the create that returned the session.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.client_checks import client_check
from conformance.client_checks.context import ClientCheckContext, ms
from conformance.client_checks.view import DEADLINE_HEADER, FINAL_PHASES, Step
from conformance.context import NotApplicable, Undecided
from conformance.mock.layout import PREFLIGHT
from conformance.records import Finding


def _again(ctx: ClientCheckContext, step: Step) -> Step | None:
    """The next request that repeats ``step``: same role, same session (or same user)."""
    for later in ctx.view.steps:
        if later.started < step.ended or later is step or later.role in (None, PREFLIGHT):
            continue
        if later.role != step.role or later.user_id != step.user_id:
            continue
        if step.session_id is None or later.session_id == step.session_id:
            return later
    return None


def _judge_waits(
    ctx: ClientCheckContext, answers: list[tuple[Step, float]], what: str, expected: str
) -> Iterator[Finding]:
    slack = ctx.settings.timer_slack
    for answer, wait in answers:
        retry = _again(ctx, answer)
        ctx.judge(answer)
        if retry is None:
            continue
        ctx.judge(retry)
        waited = retry.started - answer.ended
        if waited + slack < wait:
            yield ctx.finding(
                f"{retry.describe()} came {ms(waited)} after {answer.describe()} answered "
                f"{answer.status} {what} {ms(wait)}",
                expected,
                retry,
                answer,
            )


@client_check("CLIENT-006")
def honours_retry_after(ctx: ClientCheckContext) -> Iterator[Finding]:
    answers = [(s, s.retry_after) for s in ctx.view.protocol_steps() if s.retry_after is not None]
    if not answers:
        raise NotApplicable(
            "no answer in the trace carried Retry-After (record with --mode status-503 to "
            "give the client the chance)"
        )
    yield from _judge_waits(
        ctx,
        [(step, wait) for step, wait in answers if wait is not None],
        "with Retry-After:",
        "the same request again only once Retry-After has passed since the answer",
    )


@client_check("CLIENT-012")
def pauses_after_a_5xx(ctx: ClientCheckContext) -> Iterator[Finding]:
    least = ctx.settings.min_poll_interval
    answers = [
        (s, least)
        for s in ctx.view.protocol_steps()
        if (s.status or 0) >= 500 and s.retry_after is None
    ]
    if not answers:
        raise NotApplicable(
            "no answer in the trace was a 5xx without Retry-After (record with "
            "--mode create-5xx to give the client the chance)"
        )
    yield from _judge_waits(
        ctx,
        answers,
        "(a 5xx); it must wait at least",
        f"at least {ms(least)} between a 5xx answer and the same request again",
    )


@client_check("CLIENT-009")
def gives_up_in_time(ctx: ClientCheckContext) -> Iterator[Finding]:
    view = ctx.view
    polls = view.polls()
    stated = 0
    outlived = 0
    for key, create in view.created_keys().items():
        deadline = _deadline(ctx, create)
        if deadline is None:
            continue
        stated += 1
        cutoff = create.started + deadline
        final = [o.ended for o in view.observations(key) if o.phase in FINAL_PHASES]
        if final and min(final) <= cutoff:
            continue
        outlived += 1
        ctx.judge(create)
        late = [p for p in polls.get(key, []) if p.started > cutoff + ctx.settings.timer_slack]
        if not late:
            continue
        last = late[-1]
        yield ctx.finding(
            f"{len(late)} poll(s) of {key[1]!r} after its {ms(deadline)} deadline ran out at "
            f"{cutoff:.3f} s, the last {ms(last.started - cutoff)} late, while the session was "
            "still not ready: the client did not give up",
            f"no poll later than the deadline the client stated ({ms(deadline)} from its "
            "create); then report the failure to the user",
            late[0],
            create,
        )
    if not stated:
        raise NotApplicable(
            "the client stated no deadline (send X-Client-Deadline-Ms with each create, or "
            "pass --deadline-ms)"
        )
    if not outlived:
        raise NotApplicable(
            "every session was Ready or Failed within the client's deadline: nothing to give "
            "up on (record with --mode slow and a deadline shorter than the provisioning)"
        )


def _deadline(ctx: ClientCheckContext, create: Step) -> float | None:
    value = create.request_header(DEADLINE_HEADER)
    if value is None:
        ms_ = ctx.settings.deadline_ms
        return None if ms_ is None else ms_ / 1000
    text = value.strip()
    if not text.isdigit():
        raise Undecided(
            f"{create.describe()} states its deadline as {DEADLINE_HEADER}: {value!r}, "
            "which is not a whole number of milliseconds"
        )
    return int(text) / 1000
