"""Concurrency: what must hold when requests arrive at the same moment (CONC-*).

Each check sends a burst of ``--concurrency`` requests (default 32) from as many threads,
released together by a barrier, then reads back what they left. The faults live in
check-then-act code that is correct one request at a time: a commit batched behind other
writes, an existence check and an insert with an await between them, a read-modify-write
of a counter, a lookup then an unconditional delete. A target that sheds the burst
(429 or 503) leaves the clause undecided, with the advice to lower ``--concurrency``.
Concurrent creates returning distinct ids is ID-005; a created id usable at once,
one request at a time, is ID-006.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from conformance.checks import check
from conformance.context import CheckContext, Created, Undecided
from conformance.expectations import describe, expect_error, field
from conformance.records import Exchange, Finding, JSONValue

T = TypeVar("T")

#: How long the workers of a burst wait for each other before sending (a harness limit).
BARRIER_SECONDS = 10.0
BACK_PRESSURE = (429, 503)
SUCCESS = (200, 201)
#: How many users the sessions of CONC-001 are spread over.
USERS = 4
ONLY_CONCURRENT = "a sequential replay may not show it: replay the clause with the harness"


def burst(ctx: CheckContext, action: Callable[[int], T]) -> list[T]:
    """Run ``action(0..N-1)`` on N threads released at the same moment."""
    workers = max(2, ctx.settings.concurrency)
    barrier = threading.Barrier(workers)

    def at_once(number: int) -> T:
        # On a broken barrier, send anyway: the requests still overlap, if less tightly.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=BARRIER_SECONDS)
        return action(number)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="burst") as pool:
        return list(pool.map(at_once, range(workers)))


def _refuse_back_pressure(ctx: CheckContext, exchanges: list[Exchange]) -> None:
    for exchange in exchanges:
        if exchange.status in BACK_PRESSURE:
            raise Undecided(
                f"the target shed a burst of {max(2, ctx.settings.concurrency)} requests with "
                f"{describe(exchange)}; lower --concurrency to check {ctx.clause.id}"
            )


@check("CONC-001")
def sessions_created_concurrently_are_usable_at_once(ctx: CheckContext) -> Iterator[Finding]:
    users = [ctx.new_user() for _ in range(USERS)]
    can_run = ctx.client.profile.has("run")

    def create_then_use(number: int) -> list[Exchange]:
        user = users[number % USERS]
        created = ctx.client.create(user, {"metadata": {"worker": number}})
        session_id = ctx.client.created_id(created)
        if created.status not in SUCCESS or session_id is None:
            return [created]
        ctx.track(user, session_id)
        used = [created]
        for role in ("get", "status"):  # at once, while the other creates are in flight
            used.append(ctx.client.call(role, user_id=user, session_id=session_id))
        if can_run:
            used.append(ctx.client.run(user, session_id))
        return used

    pipelines = burst(ctx, create_then_use)
    _refuse_back_pressure(ctx, [e for pipeline in pipelines for e in pipeline])
    usable = [pipeline for pipeline in pipelines if len(pipeline) > 1]
    if not usable:
        raise Undecided(
            f"precondition failed: no concurrent create answered 201 with an id "
            f"(e.g. {describe(pipelines[0][0])})"
        )
    for created, *uses in usable:
        for exchange in uses:
            role = "run" if exchange.request.method == "POST" else _path_role(exchange)
            if _usable(exchange, role):
                continue
            yield Finding(
                f"{role} sent the moment its create answered (one of {len(pipelines)} "
                f"creates sent at once) answered {describe(exchange)}; {ONLY_CONCURRENT}",
                "200 (a run: 200, or 409 SESSION_NOT_READY while provisioning): the id is "
                "known everywhere once create answers",
                exchange,
                steps=(created, exchange),
            )
            return


@check("CONC-002")
def one_client_chosen_id_is_created_once(ctx: CheckContext) -> Iterator[Finding]:
    ctx.require_feature("client_ids", "the target does not accept client-chosen session ids")
    user, wanted = ctx.new_user(), ctx.new_session_id()

    def create(number: int) -> Exchange:
        return ctx.client.create(user, {"session_id": wanted, "metadata": {"worker": number}})

    exchanges = burst(ctx, create)
    _refuse_back_pressure(ctx, exchanges)
    won = [e for e in exchanges if e.status in SUCCESS]
    if won:
        ctx.track(user, wanted)
    if len(won) != 1:
        yield Finding(
            f"{len(exchanges)} concurrent creates of client-chosen id {wanted!r} for one user: "
            f"{len(won)} answered {'201' if won else 'with success'}"
            + (f" ({describe(won[1])})" if len(won) > 1 else f"; e.g. {describe(exchanges[0])}")
            + f"; {ONLY_CONCURRENT}",
            "exactly one 201; every other create 409 SESSION_EXISTS",
            won[-1] if won else exchanges[0],
            steps=tuple(won[:2]),
        )
        return
    for exchange in exchanges:
        if exchange is won[0]:
            continue
        finding = expect_error(
            exchange, 409, "SESSION_EXISTS", f"a concurrent create of {wanted!r} that lost"
        )
        if finding is not None:
            yield finding
            return
    sent = _sent_metadata(won[0])
    got = ctx.client.get(user, wanted)
    if got.status != 200 or field(got, "session", "metadata") != sent:
        yield Finding(
            f"after concurrent creates of {wanted!r}, the one answered 201 sent metadata "
            f"{sent!r} but get answers {describe(got)}; {ONLY_CONCURRENT}",
            f"200 with the metadata of the create that won: {sent!r}",
            got,
            steps=(won[0], got),
        )


@check("CONC-003")
def concurrent_runs_each_count_a_turn(ctx: CheckContext) -> Iterator[Finding]:
    created, ready = _ready(ctx)
    user, session_id = created.user_id, created.session_id

    def run(number: int) -> Exchange:
        return ctx.client.run(user, session_id, f"concurrent turn {number}")

    runs = burst(ctx, run)
    succeeded = [e for e in runs if e.status == 200]
    if not succeeded:
        raise Undecided(
            f"precondition failed: none of {len(runs)} concurrent runs on a Ready session "
            f"answered 200 (e.g. {describe(runs[0])})"
        )
    got = ctx.client.get(user, session_id)
    turns = field(got, "session", "turns")
    if got.status != 200 or isinstance(turns, bool) or turns != len(succeeded):
        yield Finding(
            f"after {len(runs)} concurrent runs on one Ready session, {len(succeeded)} "
            f"answered 200, but get shows turns {turns!r} ({describe(got)}); {ONLY_CONCURRENT}",
            f"turns == {len(succeeded)}, the runs that answered 200",
            got,
            steps=(created.exchange, *ready, succeeded[0], got),
        )


@check("CONC-004")
def concurrent_deletes_succeed_once(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.create(ctx.new_user())
    user, session_id = created.user_id, created.session_id

    def delete(number: int) -> Exchange:
        return ctx.client.delete(user, session_id)

    deletes = burst(ctx, delete)
    _refuse_back_pressure(ctx, deletes)
    ok = [e for e in deletes if e.status == 200]
    if ok:
        ctx.forget(user, session_id)
    if len(ok) != 1:
        yield Finding(
            f"{len(deletes)} concurrent deletes of one session: {len(ok)} answered 200; "
            f"{ONLY_CONCURRENT}",
            "exactly one 200; every other delete 404 SESSION_NOT_FOUND",
            ok[-1] if ok else deletes[0],
            steps=(created.exchange, *ok[:2]),
        )
        return
    for exchange in deletes:
        if exchange is ok[0]:
            continue
        finding = expect_error(
            exchange, 404, "SESSION_NOT_FOUND", "a concurrent delete that came second"
        )
        if finding is not None:
            yield Finding(
                f"{finding.message}; {ONLY_CONCURRENT}",
                finding.expected,
                exchange,
                steps=(created.exchange, ok[0], exchange),
            )
            return
    if ctx.client.profile.has("get"):
        after = ctx.client.get(user, session_id)
        finding = expect_error(after, 404, "SESSION_NOT_FOUND", "get after concurrent deletes")
        if finding is not None:
            ctx.track(user, session_id)
            yield Finding(
                finding.message, finding.expected, after, steps=(created.exchange, ok[0], after)
            )


def _ready(ctx: CheckContext) -> tuple[Created, tuple[Exchange, ...]]:
    """A Ready session, and the poll that showed it Ready (none without a status route)."""
    created = ctx.ready()
    if not ctx.client.profile.has("status"):
        return created, ()
    return created, (ctx.client.status(created.user_id, created.session_id),)


def _usable(exchange: Exchange, role: str) -> bool:
    if exchange.status == 200:
        return True
    return role == "run" and expect_error(exchange, 409, "SESSION_NOT_READY", "") is None


def _path_role(exchange: Exchange) -> str:
    return "status" if exchange.request.url.rstrip("/").endswith("/status") else "get"


def _sent_metadata(exchange: Exchange) -> JSONValue:
    body = exchange.sent_json()  # as the check wrote it, whatever the target's layout
    return body.get("metadata") if isinstance(body, dict) else None
