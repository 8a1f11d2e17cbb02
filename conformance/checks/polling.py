"""Polling: status polling is sane from the first poll until a final phase (POLL-*).

Each check creates one session and polls its status with backoff (:meth:`CheckContext.poll`)
until a final phase, then polls a few more times to see that the phase stays final. The
create response's ``session`` is the first observation (it carries ``phase`` and
``ready``, not ``progress``). A session that is ``Ready`` at create is a valid, if short,
sequence. Only POLL-006 fails when no final phase comes within the ready timeout; the
others then cannot decide and say so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from conformance.checks import check
from conformance.context import FINAL_PHASES, PHASE_ORDER, CheckContext, Poll, Undecided
from conformance.expectations import describe, expect_schema, field
from conformance.records import Exchange, Finding, JSONValue

#: Polls sent after the first final phase, to see that it stays final.
AFTER_FINAL = 3


@dataclass(frozen=True, slots=True)
class Observation:
    """One look at a session's state: from the create response or a status poll."""

    exchange: Exchange
    phase: JSONValue
    ready: JSONValue
    percent: JSONValue
    from_status: bool


@dataclass(frozen=True, slots=True)
class Observed:
    """What one check saw of one session, in order."""

    session_id: str
    poll: Poll
    observations: tuple[Observation, ...]

    @property
    def exchanges(self) -> tuple[Exchange, ...]:
        return tuple(o.exchange for o in self.observations)


@check("POLL-001")
def every_poll_matches_status(ctx: CheckContext) -> Iterator[Finding]:
    seen = _observe(ctx, after_final=0)
    for exchange in seen.poll.exchanges:
        finding = expect_schema(exchange, 200, "Status", "status poll of a new session")
        if finding is None and field(exchange, "session_id") != seen.session_id:
            finding = Finding(
                f"the status of {seen.session_id!r} carries session_id "
                f"{field(exchange, 'session_id')!r}",
                f"session_id == {seen.session_id!r}, the polled id",
                exchange,
            )
        if finding is not None:
            yield finding
            return
    _require_final(ctx, seen)


@check("POLL-002")
def percent_never_goes_down(ctx: CheckContext) -> Iterator[Finding]:
    seen = _observe(ctx)
    polls = [o for o in seen.observations if o.from_status]
    odd = next((o for o in polls if not _is_int(o.percent)), None)
    finding = percent_finding(polls if odd is None else polls[: polls.index(odd)])
    if finding is not None:
        yield finding
        return
    if odd is not None:
        raise Undecided(f"a status poll has no integer percent: {describe(odd.exchange)}")
    _require_final(ctx, seen)


@check("POLL-003")
def phases_never_go_back(ctx: CheckContext) -> Iterator[Finding]:
    seen = _observe(ctx)
    finding = phase_finding(seen.observations)
    if finding is not None:
        yield finding
        return
    _require_final(ctx, seen)


@check("POLL-004")
def ready_exactly_at_ready_with_100(ctx: CheckContext) -> Iterator[Finding]:
    seen = _observe(ctx)
    for now in seen.observations:
        where = "status" if now.from_status else "create response's session"
        if now.ready is not (now.phase == "Ready"):
            yield Finding(
                f"the {where} says ready {now.ready!r} at phase {now.phase!r}",
                "ready is true exactly when phase is Ready",
                now.exchange,
                steps=seen.exchanges,
            )
            return
        if now.from_status and now.phase == "Ready" and not _is_int(now.percent):
            raise Undecided(f"a Ready status has no integer percent: {describe(now.exchange)}")
        if now.from_status and now.phase == "Ready" and now.percent != 100:
            yield Finding(
                f"the status is Ready with percent {now.percent!r}",
                "percent is 100 at Ready",
                now.exchange,
                steps=seen.exchanges,
            )
            return
    _require_final(ctx, seen)


@check("POLL-005")
def final_phases_are_final(ctx: CheckContext) -> Iterator[Finding]:
    seen = _observe(ctx)
    finding = final_finding(seen.observations)
    if finding is not None:
        yield finding
        return
    _require_final(ctx, seen)


# -- judgements of one session's observations (also on observed traffic) --------------------


def percent_finding(polls: Sequence[Observation]) -> Finding | None:
    """POLL-002 on status polls of one session, in order, each with an integer percent."""
    previous: Observation | None = None
    for now in polls:
        if previous is not None and _as_int(now.percent) < _as_int(previous.percent):
            return _step_finding(
                polls,
                previous,
                now,
                f"percent went down from {previous.percent} to {now.percent}",
                "percent never goes down from one poll to the next",
            )
        previous = now
    return None


def phase_finding(observations: Sequence[Observation]) -> Finding | None:
    """POLL-003 on the observations of one session, in order."""
    previous: Observation | None = None
    for now in observations:
        if not isinstance(now.phase, str) or now.phase not in PHASE_ORDER:
            return Finding(
                f"phase {now.phase!r} is not one of {sorted(PHASE_ORDER)}",
                "phase Starting, Provisioning, Ready or Failed",
                now.exchange,
                steps=tuple(o.exchange for o in observations),
            )
        if previous is not None and PHASE_ORDER[now.phase] < PHASE_ORDER[str(previous.phase)]:
            return _step_finding(
                observations,
                previous,
                now,
                f"phase went back from {previous.phase} to {now.phase}",
                "phases follow Starting, Provisioning, Ready (or end in Failed), never back",
            )
        previous = now
    return None


def final_finding(observations: Sequence[Observation]) -> Finding | None:
    """POLL-005 on the observations of one session, in order."""
    final: Observation | None = None
    for now in observations:
        if final is not None and now.phase != final.phase:
            return _step_finding(
                observations,
                final,
                now,
                f"phase {final.phase} was followed by {now.phase!r}",
                f"{final.phase} is final: every later poll stays {final.phase}",
            )
        if now.phase == "Failed" and now.from_status:
            error = field(now.exchange, "error")
            if not (
                isinstance(error, dict)
                and isinstance(error.get("code"), str)
                and isinstance(error.get("message"), str)
            ):
                return Finding(
                    f"the status is Failed with error {error!r}",
                    "a Failed status carries error: {code, message}",
                    now.exchange,
                    steps=tuple(o.exchange for o in observations),
                )
        if final is None and now.phase in FINAL_PHASES:
            final = now
    return None


@check("POLL-006")
def new_session_reaches_a_final_phase(ctx: CheckContext) -> Iterator[Finding]:
    seen = _observe(ctx, after_final=0)
    if seen.poll.final_phase is not None:
        return
    last = seen.poll.exchanges[-1]
    if last.status != 200:
        raise Undecided(f"polling stopped: the status answered {describe(last)} (see POLL-001)")
    yield Finding(
        f"session {seen.session_id!r} was still {field(last, 'phase')!r} after "
        f"{seen.poll.seconds:.1f}s of polling ({len(seen.poll.exchanges)} polls)",
        f"a final phase (Ready or Failed) within the ready timeout of "
        f"{ctx.settings.ready_timeout:g}s",
        last,
    )


def _observe(ctx: CheckContext, *, after_final: int = AFTER_FINAL) -> Observed:
    """Create a session, poll it to a final phase, then poll ``after_final`` times more."""
    created = ctx.create(ctx.new_user())
    user, session_id = created.user_id, created.session_id
    poll = ctx.poll(user, session_id)
    extra: list[Exchange] = []
    if poll.final_phase is not None:
        for _ in range(after_final):
            time.sleep(ctx.settings.poll_initial)
            extra.append(ctx.client.status(user, session_id))
    first = from_session(created.exchange)
    # the create response counts when its session shows a phase (else LIFE-003 says why)
    shown = isinstance(first.phase, str) and isinstance(first.ready, bool)
    observations = [first] if shown else []
    observations.extend(from_status(e) for e in (*poll.exchanges, *extra) if e.status == 200)
    return Observed(session_id, poll, tuple(observations))


def from_session(exchange: Exchange) -> Observation:
    return Observation(
        exchange,
        phase=field(exchange, "session", "phase"),
        ready=field(exchange, "session", "ready"),
        percent=None,
        from_status=False,
    )


def from_status(exchange: Exchange) -> Observation:
    return Observation(
        exchange,
        phase=field(exchange, "phase"),
        ready=field(exchange, "ready"),
        percent=field(exchange, "progress", "percent"),
        from_status=True,
    )


def _require_final(ctx: CheckContext, seen: Observed) -> None:
    """Raise :class:`Undecided` unless the poll reached a final phase (nothing wrong was
    seen, but the sequence is not complete)."""
    if seen.poll.final_phase is not None:
        return
    last = seen.poll.exchanges[-1]
    raise Undecided(
        f"session {seen.session_id!r} reached no final phase within "
        f"{ctx.settings.ready_timeout:g}s (last status: {describe(last)}); see POLL-006"
    )


def _step_finding(
    seen: Sequence[Observation], before: Observation, now: Observation, message: str, expected: str
) -> Finding:
    return Finding(
        f"{message} (exchanges #{before.exchange.index} then #{now.exchange.index})",
        expected,
        now.exchange,
        steps=tuple(o.exchange for o in seen),
    )


def _is_int(value: JSONValue) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_int(value: JSONValue) -> int:
    return value if isinstance(value, int) else 0
