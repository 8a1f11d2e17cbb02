"""Identity: one shared session id, the same wherever a response carries it (ID-*).

The id a create returns is the session's one name: the top-level ``session_id``, the
nested ``session.session_id``, the ``Location`` header, and every later get, status, run
and delete response carry it unchanged. It is never null, empty or a sentinel, never
handed out twice (sequentially or concurrently), and usable the moment create returns.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote, urljoin, urlsplit

from hypothesis import strategies as st

from conformance.checks import check
from conformance.checks.sentinels import is_sentinel
from conformance.context import CheckContext, Undecided
from conformance.expectations import describe, expect_status, field
from conformance.profile import CANONICAL
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue

T = TypeVar("T")

#: Creates per user in ID-004 (two users, so ids are compared across users too).
SEQUENTIAL_CREATES = 6
#: How long ID-005's workers wait for each other before sending (a harness limit).
BARRIER_SECONDS = 10.0
#: Statuses under which a burst of concurrent creates cannot decide ID-005.
BACK_PRESSURE = (429, 503)


@dataclass(frozen=True, slots=True)
class CreateShape:
    """Which optional CreateSession fields one create sends."""

    metadata: dict[str, JSONValue] | None
    ttl_seconds: int | None
    client_id: bool


@check("ID-001")
def create_returns_one_non_empty_id(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()

    def probe(shape: CreateShape) -> Finding | None:
        body = _create_body(ctx, shape)
        exchange = ctx.client.create(user, body)
        finding = expect_status(exchange, (200, 201), f"create with {body!r}")
        if finding is not None:
            raise Undecided(f"precondition failed: {finding.message}")
        top, nested = field(exchange, "session_id"), field(exchange, "session", "session_id")
        if isinstance(top, str) and top.strip():
            ctx.track(user, top)
        problem = _id_problem(top)
        if problem is not None:
            return Finding(
                f"create's top-level session_id is {problem}: {describe(exchange)}",
                "a non-empty, non-sentinel string session_id",
                exchange,
            )
        if nested != top:
            return Finding(
                f"create's session_id is {top!r} but session.session_id is {nested!r}",
                f"session.session_id == session_id == {top!r}",
                exchange,
            )
        for place, shown in ctx.client.created_ids(exchange):
            absent = shown is None and place.startswith(("location", "header:"))
            if shown != top and not absent:
                return Finding(
                    f"create names the session {top!r} as its session_id but {shown!r} at "
                    f"{place}, a place the profile names for the id",
                    f"{top!r} in every place the answer names the session",
                    exchange,
                )
        return None

    yield from for_all(
        ctx, _create_shapes(ctx), probe, max_examples=min(ctx.settings.max_examples, 8)
    )


@check("ID-002")
def location_names_the_created_session(ctx: CheckContext) -> Iterator[Finding]:
    def probe(user: str) -> Finding | None:
        created = ctx.create(user)
        exchange = created.exchange
        profile = ctx.client.profile if ctx.client.profile.has("get") else CANONICAL
        expected = profile.route("get").path(user_id=user, session_id=created.session_id)
        location = exchange.response.header("location") if exchange.response else None
        if exchange.status != 201 or not location:
            return Finding(
                f"create answered {exchange.status} with Location {location!r}",
                f"201 with Location: {expected}",
                exchange,
            )
        resolved = urlsplit(urljoin(exchange.request.url, location.strip())).path
        if not _ends_with(resolved, expected):
            return Finding(
                f"Location {location!r} does not name the created session {created.session_id!r}",
                f"a Location whose path ends with {expected} (relative or absolute)",
                exchange,
            )
        return None

    yield from for_all(ctx, _user_ids(ctx), probe, max_examples=min(ctx.settings.max_examples, 6))


@check("ID-003")
def every_response_carries_the_created_id(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.ready()
    user, session_id = created.user_id, created.session_id
    answers: list[tuple[str, Exchange, tuple[tuple[str, ...], ...]]] = [
        ("get", ctx.client.get(user, session_id), (("session_id",), ("session", "session_id"))),
        ("status", ctx.client.status(user, session_id), (("session_id",),)),
        ("run", ctx.client.run(user, session_id), (("session_id",),)),
    ]
    answers.append(("delete", ctx.client.delete(user, session_id), (("session_id",),)))
    if answers[-1][1].status == 200:
        ctx.forget(user, session_id)
    for role, exchange, places in answers:
        finding = expect_status(exchange, 200, f"{role} of the session create returned")
        if finding is not None:
            yield finding
            continue
        for place in places:
            got = field(exchange, *place)
            if got != session_id:
                yield Finding(
                    f"the {role} response's {'.'.join(place)} is {got!r}",
                    f"{'.'.join(place)} == {session_id!r}, the id create returned",
                    exchange,
                )


@check("ID-004")
def sequential_creates_return_distinct_ids(ctx: CheckContext) -> Iterator[Finding]:
    seen: dict[str, Exchange] = {}
    users = (ctx.new_user(), ctx.new_user())
    for turn in range(2 * SEQUENTIAL_CREATES):
        created = ctx.create(users[turn % 2])  # alternating, so ids are compared across users
        earlier = seen.get(created.session_id)
        if earlier is not None:
            yield Finding(
                f"create returned session id {created.session_id!r} twice "
                f"(first in exchange #{earlier.index}, again in #{created.exchange.index})",
                "every create returns an id no earlier create returned, for any user",
                created.exchange,
                steps=(earlier, created.exchange),
            )
            return
        seen[created.session_id] = created.exchange


@check("ID-005")
def concurrent_creates_return_distinct_readable_ids(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    workers = max(2, ctx.settings.concurrency)
    barrier = threading.Barrier(workers)

    def create_at_once(_: int) -> Exchange:
        # on a broken barrier, send anyway: the creates still overlap, if less tightly
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=BARRIER_SECONDS)
        return ctx.client.create(user, {})

    with ThreadPoolExecutor(max_workers=workers) as pool:
        exchanges = list(pool.map(create_at_once, range(workers)))
    ids: dict[str, Exchange] = {}
    duplicate: tuple[Exchange, Exchange] | None = None
    for exchange in exchanges:
        session_id = ctx.client.created_id(exchange)
        if session_id is not None:
            ctx.track(user, session_id)
    for exchange in exchanges:
        if exchange.status in BACK_PRESSURE:
            raise Undecided(
                f"the target refused {workers} concurrent creates with {describe(exchange)}; "
                "lower --concurrency to check ID-005"
            )
        session_id = ctx.client.created_id(exchange)
        if exchange.status not in (200, 201) or session_id is None:
            yield Finding(
                f"one of {workers} concurrent creates answered {describe(exchange)}",
                "201 with a session id for every concurrent create",
                exchange,
            )
            return
        if session_id in ids and duplicate is None:
            duplicate = (ids[session_id], exchange)
        ids[session_id] = exchange
    if duplicate is not None:
        first, again = duplicate
        yield Finding(
            f"{workers} concurrent creates returned only {len(ids)} distinct ids: "
            f"{ctx.client.created_id(again)!r} twice (exchanges #{first.index} and #{again.index})",
            "pairwise distinct session ids for concurrent creates",
            again,
            steps=(first, again),
        )
        return
    for session_id, exchange in ids.items():
        got = ctx.client.get(user, session_id)
        if got.status != 200 or field(got, "session", "session_id") != session_id:
            yield Finding(
                f"session {session_id!r}, created concurrently (exchange #{exchange.index}), "
                f"reads back as {describe(got)}",
                f"200 with session.session_id == {session_id!r}",
                got,
                steps=(exchange, got),
            )
            return


@check("ID-006")
def created_id_is_usable_at_once(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    can_run = ctx.client.profile.has("run")

    def probe(shape: CreateShape) -> Finding | None:
        created = ctx.create(user, _create_body(ctx, shape))
        session_id = created.session_id
        for role in (r for r in ("get", "status") if ctx.client.profile.has(r)):
            exchange = ctx.client.call(role, user_id=user, session_id=session_id)
            finding = expect_status(exchange, 200, f"{role} sent right after create")
            if finding is not None:
                return Finding(
                    finding.message, finding.expected, exchange, steps=(created.exchange, exchange)
                )
        if can_run:
            ran = ctx.client.run(user, session_id)
            not_ready = ran.status == 409 and field(ran, "error") == "SESSION_NOT_READY"
            if ran.status != 200 and not not_ready:
                return Finding(
                    f"run sent right after create answered {describe(ran)}",
                    "200, or 409 SESSION_NOT_READY while provisioning: the run path knows the id",
                    ran,
                    steps=(created.exchange, ran),
                )
        return None

    yield from for_all(
        ctx, _create_shapes(ctx), probe, max_examples=min(ctx.settings.max_examples, 6)
    )


def _id_problem(value: JSONValue) -> str | None:
    """What is wrong with a session id a response returned, or None."""
    if not isinstance(value, str):
        return "missing" if value is None else f"not a string ({value!r})"
    if not value.strip():
        return f"empty or whitespace ({value!r})"
    if is_sentinel(value):
        return f"the sentinel {value!r}"
    return None


def _ends_with(path: str, expected: str) -> bool:
    """Whether ``path`` ends with the segments of ``expected``, each compared decoded."""
    got = [unquote(segment) for segment in path.rstrip("/").split("/")]
    want = [unquote(segment) for segment in expected.strip("/").split("/")]
    return len(got) >= len(want) and got[-len(want) :] == want


def _create_shapes(ctx: CheckContext) -> st.SearchStrategy[CreateShape]:
    """Every combination of CreateSession's optional fields (a client-chosen id only when
    the target accepts them; its value is made fresh per create, see :func:`_create_body`)."""
    metadata = st.dictionaries(
        st.text("abcdefgh", min_size=1, max_size=6),
        st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=10),
        max_size=3,
    )
    client_ids = st.booleans() if "client_ids" in ctx.settings.features else st.just(False)
    return st.builds(
        CreateShape,
        metadata=st.none() | metadata,
        ttl_seconds=st.none() | st.integers(60, 86400),
        client_id=client_ids,
    )


def _create_body(ctx: CheckContext, shape: CreateShape) -> dict[str, JSONValue]:
    body: dict[str, JSONValue] = {}
    if shape.metadata is not None:
        body["metadata"] = dict(shape.metadata)
    if shape.ttl_seconds is not None:
        body["ttl_seconds"] = shape.ttl_seconds
    if shape.client_id:
        body["session_id"] = ctx.new_session_id()
    return body


def _user_ids(ctx: CheckContext) -> st.SearchStrategy[str]:
    """Fresh valid user ids, using every character class of the user-id pattern."""
    base = ctx.new_user()
    return st.text("abcXYZ019_.@-", max_size=12).map(lambda tail: base + tail)
