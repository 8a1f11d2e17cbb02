"""Observed traffic: a trace's exchanges read in the contract's terms through a profile.

A trace (the mock's or the proxy's) holds requests and answers as they passed, in the
target's layout. :func:`observe` reads each request back through the profile — which
role it was sent to (method and path against the profile's routes), the user and session
ids it named (wherever the layout keeps them: path, query, header or body), and its body
in the contract's terms — and gives each exchange its role
(:attr:`~conformance.records.Exchange.role`, as the contract client sets it on the
harness's own requests) and the canonical view of its answer
(:func:`conformance.layout.view_of`, as the contract client does for the harness's own
requests), so that the judgements written for the harness's traffic
(:mod:`conformance.passive`) read a proxied exchange the same way. The raw exchange stays
the evidence.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from conformance.layout import view_of
from conformance.pointers import MISSING, Found, Missing, get, pop, put, tokens
from conformance.profile import CANONICAL_SOURCES, Profile, Route
from conformance.records import Exchange, JSONValue, RequestRecord

#: The values of a request, besides its body's other fields.
IDS = ("user_id", "session_id")


@dataclass(frozen=True, slots=True)
class Seen:
    """One exchange of the trace, read through the profile."""

    #: The exchange, its :attr:`~Exchange.role` set to the route its request matched.
    exchange: Exchange
    user_id: str | None
    session_id: str | None
    #: Seconds since the recorder started, when the request arrived.
    started: float

    @property
    def role(self) -> str | None:
        """The role its request was sent to (None: no route of the profile)."""
        return self.exchange.role

    @property
    def answered(self) -> bool:
        response = self.exchange.response
        return response is not None and not response.truncated

    @property
    def created_id(self) -> str | None:
        """For a create answered 2xx: the id the answer handed out."""
        if self.role != "create" or not 200 <= (self.exchange.status or 0) < 300:
            return None
        body = self.exchange.body_json()
        value = body.get("session_id") if isinstance(body, dict) else None
        return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class _Pattern:
    role: str
    route: Route
    path: re.Pattern[str]


def observe(
    exchanges: tuple[tuple[float, Exchange], ...], profile: Profile, base_url: str
) -> tuple[Seen, ...]:
    """Each ``(started, exchange)`` read through ``profile``; request paths are relative
    to ``base_url`` (where the recorder listened)."""
    base = urlsplit(base_url).path.rstrip("/")
    patterns = [
        _Pattern(role, route, route_pattern(base, route.template)) for role, route in profile.routes
    ]
    return tuple(_seen(started, exchange, profile, patterns) for started, exchange in exchanges)


def route_pattern(base: str, template: str) -> re.Pattern[str]:
    """The paths of a route's ``template`` under the ``base`` path: ``user_id`` and
    ``session_id`` are named groups, the profile's own variables match any segment."""
    pattern = re.escape(template)
    for name in IDS:
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]*)")
    pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]*", pattern)  # the profile's own variables
    return re.compile(re.escape(base) + pattern)


def _seen(started: float, exchange: Exchange, profile: Profile, patterns: list[_Pattern]) -> Seen:
    request = exchange.request
    path = urlsplit(request.url).path
    for item in patterns:
        found = item.path.fullmatch(path)
        if found is None or request.method.upper() != item.route.method:
            continue
        in_path = {name: unquote(value) for name, value in found.groupdict().items()}
        values, sent = read_request(item.role, item.route, request, in_path)
        view = view_of(profile, item.role, exchange, sent)
        return Seen(
            dataclasses.replace(exchange, view=view, role=item.role),
            _text(values.get("user_id", MISSING)),
            _text(values.get("session_id", MISSING)),
            started,
        )
    view = view_of(profile, None, exchange, exchange.sent_json())
    return Seen(dataclasses.replace(exchange, view=view, role=None), None, None, started)


def read_request(
    role: str, route: Route, request: RequestRecord, in_path: dict[str, str]
) -> tuple[dict[str, Found], JSONValue | None]:
    """The request's values (user id, session id, message) wherever the layout keeps
    them, and its body in the contract's terms (None: no JSON body)."""
    document = _json(request.body)
    query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    values: dict[str, Found] = {}
    for name, _ in CANONICAL_SOURCES.get(role, ()):
        place = route.place(role, name)
        if place.where == "path":
            values[name] = in_path.get(name, MISSING)
        elif place.where == "query":
            values[name] = query.get(place.name, MISSING)
        elif place.where == "header":
            header = request.header(place.name)
            values[name] = MISSING if header is None else header
        elif place.where == "body" and not isinstance(document, Missing):
            values[name] = get(document, tokens(place.name))
    if isinstance(document, Missing):
        return values, None
    sent = _canonical_body(role, route, copy.deepcopy(document), values)
    return values, sent


def _canonical_body(
    role: str, route: Route, document: JSONValue, values: dict[str, Found]
) -> JSONValue:
    """A body in the layout's terms read back into the contract's: the values taken out
    of their places, constants dropped, renamed fields under their contract names."""
    if not isinstance(document, dict):
        return document
    for name, _ in CANONICAL_SOURCES.get(role, ()):
        place = route.place(role, name)
        if place.where == "body":
            pop(document, tokens(place.name))
    for pointer, _ in route.constants:
        pop(document, tokens(pointer))
    moved: list[tuple[str, JSONValue]] = []
    for canonical, source in route.request:
        if source.kind != "copy":
            continue
        value = pop(document, tokens(source.pointer))
        if not isinstance(value, Missing):
            moved.append((canonical, value))
    result: JSONValue = document
    for pointer, value in moved:
        result = put(result, tokens(pointer), value)
    for name, where in CANONICAL_SOURCES.get(role, ()):
        value = values.get(name, MISSING)
        if where != "arg" and not isinstance(value, Missing):
            result = put(result, tokens(where), value)
    return result


def _json(raw: bytes) -> Found:
    if not raw:
        return MISSING
    try:
        value: JSONValue = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return MISSING
    return value


def _text(value: Found) -> str | None:
    if isinstance(value, Missing) or value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
