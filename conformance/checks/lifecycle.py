"""Lifecycle: create before run; a session lives from create to delete (LIFE-*)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from hypothesis import strategies as st

from conformance.checks import check
from conformance.context import CheckContext, NotApplicable
from conformance.expectations import describe, expect_error, expect_schema, expect_status, field
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue


@check("LIFE-001")
def run_on_never_created_session_is_404(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    ctx.create(user)  # the user exists and owns a session: only the id is unknown

    def probe(session_id: str) -> Finding | None:
        return expect_error(
            ctx.client.run(user, session_id),
            404,
            "SESSION_NOT_FOUND",
            f"run on {session_id!r}, which was never created",
        )

    yield from for_all(ctx, _never_created_ids(ctx), probe, max_examples=10)


@check("LIFE-002")
def run_does_not_create_sessions(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    session_id = ctx.new_session_id()
    runs = (ctx.client.run(user, session_id), ctx.client.run(user, session_id))
    probes = [ctx.client.get(user, session_id)]
    if ctx.client.profile.has("status"):  # a layout may have no status route
        probes.append(ctx.client.status(user, session_id))
    for exchange in probes:
        finding = expect_error(
            exchange, 404, "SESSION_NOT_FOUND", f"after runs on never-created {session_id!r}"
        )
        if finding is not None:
            ctx.track(user, session_id)  # the run created it: clean it up
            yield _created_by_run(finding, session_id, runs, exchange)
            return
    listed = _listed_ids(ctx, user) if ctx.client.profile.has("list") else []
    if session_id in listed:
        yield Finding(
            f"after runs on never-created {session_id!r}, it appears in the user's list",
            "the id does not exist: runs never create sessions",
            None,
        )


def _created_by_run(
    finding: Finding, session_id: str, runs: tuple[Exchange, Exchange], shown: Exchange
) -> Finding:
    """The finding of a read that shows a run created its session. When the first run was
    answered 2xx (where the contract wants 404), that answer is where the fault shows
    first: it is the finding's exchange, so that the failure is grouped with the other
    runs on unknown ids answered 2xx (:mod:`conformance.causes`); the steps replay it."""
    run = runs[0]
    if run.status is None or not 200 <= run.status < 300:
        return replace(finding, steps=(*runs, shown))
    return Finding(
        f"run on never-created {session_id!r} answered {run.status}, and the {shown.role}"
        f" after it got {describe(shown)}",
        "404 SESSION_NOT_FOUND for the run and for the read after it: runs never create sessions",
        run,
        steps=(*runs, shown),
        expected_status=404,
    )


@check("LIFE-003")
def create_answers_201_with_session(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    exchange = ctx.client.create(user, {})
    finding = expect_schema(exchange, 201, "SessionEnvelope", f"create for {user!r}")
    if finding is not None:
        yield finding
        return
    session_id = ctx.client.created_id(exchange)
    if session_id is not None:
        ctx.track(user, session_id)
    owner = field(exchange, "session", "user_id")
    if owner != user:
        yield Finding(f"session.user_id is {owner!r}", f"the path's user {user!r}", exchange)
    if field(exchange, "ok") is not True:
        yield Finding("ok is not true", "ok: true", exchange)


@check("LIFE-004")
def created_session_is_readable_and_listed(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.create(ctx.new_user())
    got = ctx.client.get(created.user_id, created.session_id)
    finding = expect_schema(got, 200, "SessionEnvelope", "get of a session just created")
    if finding is not None:
        yield finding
        return
    if field(got, "session", "session_id") != created.session_id:
        yield Finding(
            f"get returned session {field(got, 'session', 'session_id')!r}",
            f"the created session {created.session_id!r}",
            got,
        )
    listed = ctx.client.list(created.user_id)
    finding = expect_schema(listed, 200, "SessionList", "list of the session's user")
    if finding is not None:
        yield finding
        return
    if created.session_id not in _ids_in(listed):
        yield Finding(
            f"the list does not contain {created.session_id!r}: {describe(listed)}",
            "the created session in its user's list",
            listed,
        )


@check("LIFE-005")
def run_on_ready_session_answers_events(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.ready()
    exchange = ctx.client.run(created.user_id, created.session_id, "hello")
    finding = expect_schema(exchange, 200, "RunResult", "run on a Ready session")
    if finding is not None:
        yield finding
        return
    events = field(exchange, "events")
    if not isinstance(events, list) or not events:
        yield Finding("the run returned no events", "one or more events", exchange)


@check("LIFE-006")
def turns_count_successful_runs(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.ready()
    runs = 3
    for turn in range(1, runs + 1):
        exchange = ctx.client.run(created.user_id, created.session_id, f"turn {turn}")
        finding = expect_status(exchange, 200, f"run {turn} of {runs} on the same session")
        if finding is not None:
            yield finding
            return
        got = ctx.client.get(created.user_id, created.session_id)
        turns = field(got, "session", "turns")
        if turns != turn:
            yield Finding(
                f"after {turn} successful run(s), session.turns is {turns!r}",
                f"turns == {turn}",
                got,
            )
            return


@check("LIFE-007")
def delete_ends_the_session(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.ready()
    user, session_id = created.user_id, created.session_id
    deleted = ctx.client.delete(user, session_id)
    finding = expect_schema(deleted, 200, "DeleteResult", "delete of a live session")
    if finding is not None:
        yield finding
        return
    ctx.forget(user, session_id)
    probes = [("get", ctx.client.get(user, session_id))]
    if ctx.client.profile.has("status"):  # a layout may have no status route
        probes.append(("status", ctx.client.status(user, session_id)))
    probes.append(("run", ctx.client.run(user, session_id)))
    probes.append(("delete", ctx.client.delete(user, session_id)))
    for role, exchange in probes:
        finding = expect_error(exchange, 404, "SESSION_NOT_FOUND", f"{role} after delete")
        if finding is not None:
            yield finding


@check("LIFE-008")
def run_before_ready_is_409(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.create(ctx.new_user())
    exchange = ctx.client.run(created.user_id, created.session_id)
    status = ctx.client.status(created.user_id, created.session_id)
    create_phase = field(created.exchange, "session", "phase")
    if create_phase == "Ready" or (exchange.status == 200 and field(status, "phase") == "Ready"):
        raise NotApplicable(
            "sessions are Ready at create (or became Ready before the run): "
            "the target has no not-ready window to probe"
        )
    finding = expect_error(
        exchange, 409, "SESSION_NOT_READY", f"run while the session is {create_phase!r}"
    )
    if finding is not None:
        yield finding


@check("LIFE-009")
def metadata_round_trips(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()

    def probe(metadata: dict[str, JSONValue]) -> Finding | None:
        created = ctx.create(user, {"metadata": metadata})
        for exchange in (created.exchange, ctx.client.get(user, created.session_id)):
            got = field(exchange, "session", "metadata")
            if got != metadata:
                return Finding(
                    f"metadata came back as {got!r}", f"exactly as sent: {metadata!r}", exchange
                )
        return None

    yield from for_all(ctx, _metadata(), probe, max_examples=min(ctx.settings.max_examples, 15))


@check("LIFE-010")
def client_chosen_id_is_honoured_once(ctx: CheckContext) -> Iterator[Finding]:
    ctx.require_feature("client_ids", "the target does not accept client-chosen session ids")
    user = ctx.new_user()
    wanted = ctx.new_session_id()
    first = ctx.create(user, {"session_id": wanted})
    if first.session_id != wanted:
        yield Finding(
            f"create with session_id {wanted!r} returned {first.session_id!r}",
            "the client-chosen id",
            first.exchange,
        )
        return
    again = ctx.client.create(user, {"session_id": wanted})
    finding = expect_error(again, 409, "SESSION_EXISTS", f"second create of {wanted!r}")
    if finding is not None:
        yield finding


@check("LIFE-011")
def deleted_id_is_free_again(ctx: CheckContext) -> Iterator[Finding]:
    ctx.require_feature("client_ids", "the target does not accept client-chosen session ids")
    user = ctx.new_user()
    wanted = ctx.new_session_id()
    ctx.create(user, {"session_id": wanted})
    deleted = ctx.client.delete(user, wanted)
    finding = expect_status(deleted, 200, f"delete of {wanted!r}")
    if finding is not None:
        yield finding
        return
    ctx.forget(user, wanted)
    again = ctx.client.create(user, {"session_id": wanted})
    finding = expect_status(again, 201, f"create of {wanted!r} again after its delete")
    if finding is not None:
        yield finding
    elif ctx.client.created_id(again) == wanted:
        ctx.track(user, wanted)


def _never_created_ids(ctx: CheckContext) -> st.SearchStrategy[str]:
    """Valid-looking ids nobody created: uuids, prefixed ids, the shapes clients make up;
    only ids in the profile's id format when it declares one."""
    sentinels = {"nan", "nil", "none", "null", "undefined"}
    ids = ctx.client.profile.session_ids
    if ids.kind == "uuid":
        return st.uuids().map(str)
    if ids.kind == "pattern":
        drawn = st.from_regex(ids.pattern, fullmatch=True)
        return drawn.filter(lambda s: s.strip() != "" and s.lower() not in sentinels)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda u: u.hex),
        st.text(alphabet, min_size=1, max_size=1).flatmap(
            lambda head: st.text(alphabet + "_-", max_size=40).map(lambda tail: head + tail)
        ),
    ).filter(lambda s: s.lower() not in {"nan", "nil", "none", "null", "undefined"})


def _metadata() -> st.SearchStrategy[dict[str, JSONValue]]:
    leaves = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
    values = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )
    return st.dictionaries(st.text(max_size=12), values, max_size=5)


def _ids_in(exchange: Exchange) -> list[str]:
    sessions = field(exchange, "sessions")
    ids: list[str] = []
    for session in sessions if isinstance(sessions, list) else []:
        value = session.get("session_id") if isinstance(session, dict) else None
        if isinstance(value, str):
            ids.append(value)
    return ids


def _listed_ids(ctx: CheckContext, user: str) -> list[str]:
    return _ids_in(ctx.client.list(user))
