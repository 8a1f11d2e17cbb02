"""Ids a client sends: never a lost one (CLIENT-001), never one it was not given
(CLIENT-002).

A *lost* id is what code sends when the real one never arrived: ``undefined`` from
JavaScript, ``None`` from Python, ``[object Object]``, ``NaN``, ``null`` or nothing at
all. CLIENT-001 looks in every place an id can travel: the path parameters of the
layout's routes (and any path segment of a request no route serves), query parameters,
headers and JSON body fields whose names say they hold an id (``id``, ``*_id``,
``*Id``, ``*session*``). A body's ``metadata`` is the user's own data and is not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

from conformance.client_checks import client_check
from conformance.client_checks.context import ClientCheckContext, ms
from conformance.client_checks.view import SessionKey, Step
from conformance.context import NotApplicable
from conformance.mock.layout import PREFLIGHT, SESSION_ROLES, is_sentinel, path_segments
from conformance.records import Finding

_CAMEL_ID = re.compile(r"[a-z0-9]Id$")
SKIPPED_BODY_FIELDS = frozenset({"metadata"})
EXPECTED_ID = (
    "the id a create returned, or no request at all until there is one "
    "(never undefined, null, None, NaN, [object Object] or an empty id)"
)


def id_like(name: str) -> bool:
    """Whether a parameter, header or field name says it carries an id."""
    lowered = name.lower()
    return (
        lowered in ("id", "sid")
        or lowered.endswith(("_id", "-id"))
        or "session" in lowered
        or _CAMEL_ID.search(name) is not None
    )


def lost_ids(ctx: ClientCheckContext, step: Step) -> Iterator[str]:
    """Where ``step``'s request carries a lost id, as ``path parameter session_id = 'x'``."""
    request = step.exchange.request
    url = urlsplit(request.url)
    params = ctx.view.layout.id_segments(request.url)
    if params:
        served = step.role is not None
        for name, value in params:
            if is_sentinel(value) and (value or served):
                yield f"path parameter {name} = {value!r}"
    else:
        segments = path_segments(url.path)
        for index, segment in enumerate(segments):
            inner_empty = segment == "" and 0 < index < len(segments) - 1
            if (segment and is_sentinel(segment)) or inner_empty:
                yield f"path segment {index + 1} = {segment!r}"
    for name, value in parse_qsl(url.query, keep_blank_values=True):
        if id_like(name) and is_sentinel(value):
            yield f"query parameter {name} = {value!r}"
    for name, value in request.headers:
        if id_like(name) and is_sentinel(value):
            yield f"header {name} = {value!r}"
    yield from _body_ids(request.body)


def _body_ids(body: bytes) -> Iterator[str]:
    try:
        data = json.loads(body.decode("utf-8")) if body else None
    except ValueError:
        return
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        where, value = stack.pop(0)
        if isinstance(value, dict):
            for key, item in value.items():
                if key in SKIPPED_BODY_FIELDS:
                    continue
                pointer = f"{where}/{key}"
                if id_like(key) and (item is None or (isinstance(item, str) and is_sentinel(item))):
                    yield f"body field {pointer} = {json.dumps(item)}"
                else:
                    stack.append((pointer, item))
        elif isinstance(value, list):
            stack.extend((f"{where}/{i}", item) for i, item in enumerate(value))


@client_check("CLIENT-001")
def never_sends_a_lost_id(ctx: ClientCheckContext) -> Iterator[Finding]:
    for step in ctx.view.steps:
        ctx.judge(step)
        places = list(lost_ids(ctx, step))
        if places:
            who = "the browser's CORS preflight for " if step.role == PREFLIGHT else ""
            yield ctx.finding(
                f"{who}{step.describe()} sends a lost id: {'; '.join(places)}",
                EXPECTED_ID,
                step,
            )


@client_check("CLIENT-002")
def names_only_sessions_it_was_given(ctx: ClientCheckContext) -> Iterator[Finding]:
    view = ctx.view
    named = [s for s in view.of_role(*SESSION_ROLES) if s.key is not None]
    if not named:
        raise NotApplicable(
            "the client named no session (no get, status, run or delete with an id)"
        )
    history = _history(view.creates(), view.of_role("delete"))
    for step in named:
        assert step.key is not None
        ctx.judge(step)
        problem = _before_create_or_after_delete(step, step.key, history.get(step.key, []))
        if problem is None:
            continue
        message, shown = problem
        others = [
            c
            for c in view.creates()
            if c.created_id == step.session_id and c.user_id != step.user_id
        ]
        if message.startswith("no create") and others:
            message += (
                f" (a create for user {others[0].user_id!r} returned it: another user's session)"
            )
        yield ctx.finding(
            f"{step.describe()}: {message}",
            "a session id used only once a create for the same user has answered with it, "
            "and not after the client deleted it",
            step,
            *shown,
        )


def _history(creates: tuple[Step, ...], deletes: tuple[Step, ...]) -> dict[SessionKey, list[Step]]:
    """Per session: the creates that returned it and the deletes that ended it, by time."""
    events: dict[SessionKey, list[Step]] = {}
    for create in creates:
        if create.user_id is not None and create.created_id is not None:
            events.setdefault((create.user_id, create.created_id), []).append(create)
    for delete in deletes:
        if delete.key is not None and delete.status == 200:
            events.setdefault(delete.key, []).append(delete)
    for steps in events.values():
        steps.sort(key=lambda s: s.ended)
    return events


def _before_create_or_after_delete(
    step: Step, key: SessionKey, events: list[Step]
) -> tuple[str, tuple[Step, ...]] | None:
    done = [e for e in events if e.ended <= step.started]
    if done and done[-1].role == "create":
        return None
    if done:
        deleted = done[-1]
        return f"sent after the client deleted the session at {deleted.ended:.3f} s", (deleted,)
    later = [e for e in events if e.role == "create"]
    if later:
        create = later[0]
        early = create.ended - step.started
        return (
            f"sent {ms(early)} before the create that returns this id had answered "
            "(the client did not wait for its create)",
            (create,),
        )
    return "no create ever returned this id: the client made it up", ()
