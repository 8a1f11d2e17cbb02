"""Observed traffic: a trace's exchanges read in the contract's terms through a profile.

A trace (the mock's or the proxy's) holds requests and answers as they passed, in the
target's layout. :func:`observe` reads each request back through the profile — which
role it was sent to (method and path against the profile's routes), the user and session
ids it named (wherever the layout keeps them: path, query, header or body), and its body
in the contract's terms — and gives each exchange its role
(:attr:`~conformance.records.Exchange.role`, as the contract client sets it on the
harness's own requests) and the canonical view of its answer
(:func:`conformance.profile.view_of`, as the contract client does for the harness's own
requests), so that the judgements written for the harness's traffic
(:mod:`conformance.passive`) read a proxied exchange the same way. The raw exchange stays
the evidence.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from conformance.pointers import MISSING, Found, Missing
from conformance.profile import Profile, Route, created_id, view_of
from conformance.profile.reading import read_request
from conformance.profile.routing import route_pattern
from conformance.records import Exchange


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

    #: For a create answered 2xx: the id the answer handed out (where the profile says
    #: a create names it: :func:`conformance.profile.created_id`).
    created_id: str | None = None


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
        seen = dataclasses.replace(exchange, view=view, role=item.role)
        created = None
        if item.role == "create" and 200 <= (seen.status or 0) < 300:
            created = created_id(profile, seen)
        return Seen(
            seen,
            _text(values.get("user_id", MISSING)),
            _text(values.get("session_id", MISSING)),
            started,
            created,
        )
    view = view_of(profile, None, exchange, exchange.sent_json())
    return Seen(dataclasses.replace(exchange, view=view, role=None), None, None, started)


def _text(value: Found) -> str | None:
    if isinstance(value, Missing) or value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
