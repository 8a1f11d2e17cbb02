"""Which sessions a check's traffic may have made, so that its clean-up deletes them.

A check tracks the sessions it means to make (:meth:`CheckContext.track
<conformance.context.CheckContext.track>`), but a target may make others: a create the
check expected to be refused, one of a burst of concurrent creates whose sibling failed,
a run that created the never-created session it was sent to, an id in ``session`` or
``Location`` that differs from the top-level ``session_id``. :func:`sessions_made` reads
them off the recorded exchanges. Only user ids the harness made up
(:data:`HARNESS_USERS`) count: the clean-up never touches anyone else's sessions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote, urlsplit

from conformance.client import ContractClient
from conformance.generation import HARNESS_USERS
from conformance.records import Exchange, JSONValue

__all__ = ["HARNESS_USERS", "sessions_made"]
Key = tuple[str, str]


def sessions_made(
    client: ContractClient, exchanges: Iterable[Exchange], *, everyone: bool = False
) -> set[Key]:
    """(user, session) of every session these exchanges may have made, for harness users
    (``everyone``: for any user, those the harness must not touch included)."""
    routes = _routes(client)
    found: set[Key] = set()
    for exchange in exchanges:
        request = exchange.request
        path = urlsplit(request.url).path
        for role, method, pattern in routes:
            match = pattern.fullmatch(path)
            if request.method != method or match is None:
                continue
            if role == "create":
                found.update(_from_create(exchange, unquote(match["user"])))
            elif exchange.status == 200:  # a run that succeeded: its session exists now
                found.update(_from_run(exchange))
    return {
        key for key in found if (everyone or key[0].startswith(HARNESS_USERS)) and key[1].strip()
    }


def _routes(client: ContractClient) -> list[tuple[str, str, re.Pattern[str]]]:
    base = re.escape(urlsplit(client.target.base_url).path.rstrip("/"))
    routes = []
    for role in ("create", "run", "run_stream"):
        if not client.profile.has(role):
            continue
        route = client.profile.route(role)
        template = re.escape(route.template).replace(re.escape("{user_id}"), "(?P<user>[^/]+)")
        if (role == "create") == ("(?P<user>" in template):
            routes.append((role, route.method, re.compile(base + template)))
    return routes


def _from_create(exchange: Exchange, user: str) -> Iterator[Key]:
    if exchange.status not in (200, 201):
        return
    answer = exchange.body_json()
    session = answer.get("session") if isinstance(answer, dict) else None
    candidates: list[JSONValue] = [
        answer.get("session_id") if isinstance(answer, dict) else None,
        session.get("session_id") if isinstance(session, dict) else None,
        _body(exchange.request.body).get("session_id"),  # a client-chosen id
    ]
    location = exchange.response.header("location") if exchange.response else None
    if location:
        candidates.append(unquote(urlsplit(location.strip()).path.rstrip("/").rpartition("/")[2]))
    yield from ((user, c) for c in candidates if isinstance(c, str))


def _from_run(exchange: Exchange) -> Iterator[Key]:
    body = _body(exchange.request.body)
    user, session_id = body.get("user_id"), body.get("session_id")
    if isinstance(user, str) and isinstance(session_id, str):
        yield user, session_id


def _body(raw: bytes) -> dict[str, JSONValue]:
    if not raw.startswith(b"{"):
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
