"""Requests in a profile's layout, read back into the contract's: what the mock serves.

The mock answers every layout with the one reference. :class:`Router` finds which role
of the profile a request was sent to (method and raw path against the profile's routes,
as :mod:`conformance.observed` reads a trace); :func:`canonical_request` rewrites it as
the contract's request for that role: the canonical route's path with the user and
session ids wherever the layout carried them (path, query, header or body), the body's
fields under their contract names, the layout's constants dropped, a reshaped message
written back as ``{role, parts: [{text}]}``. A value the request lacks becomes what the
reference refuses: a missing user id is empty (422 at its place), a missing session id
blank (400 ``SESSION_ID_MISSING``). A layout without users runs every session as
:data:`SINGLE_USER`. Everything here is asked of the profile package (:mod:`conformance.profile.reading`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote

from conformance.pointers import MISSING, Found, Missing
from conformance.profile import CANONICAL, Profile, Route, encode
from conformance.profile.reading import contract_body, header_places, read_request
from conformance.profile.routing import route_pattern
from conformance.records import RequestRecord
from conformance.reference.routing import Route as ReferenceRoute

#: The user every session of a layout without users belongs to (never shown: such a
#: layout's views have no user field).
SINGLE_USER = "anonymous"
#: What stands for a missing session id: blank, so the reference answers 400.
BLANK_SESSION = " "


@dataclass(frozen=True, slots=True)
class Routed:
    """Where a request went: a role of the profile (``role`` None: its path is a route of
    the profile, its method is not), the path template and the ids the path carried."""

    role: str | None
    route: Route | None
    template: str
    in_path: tuple[tuple[str, str], ...]
    #: The same path as a reference route with the profile's methods there (for the
    #: reference's own ``Allow``, 405 and preflight answers).
    reference: ReferenceRoute


class Router:
    """The profile's routes, matched on a request's raw path and method."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._patterns = [
            (role, route, route_pattern("", route.template)) for role, route in profile.routes
        ]

    def find(self, method: str, raw_path: str) -> Routed | None:
        """The role ``method raw_path`` was sent to (None: no route has that path)."""
        wanted = "GET" if method.upper() == "HEAD" else method.upper()
        known: Routed | None = None
        for role, route, pattern in self._patterns:
            found = pattern.fullmatch(raw_path)
            if found is None:
                continue
            in_path = tuple((k, unquote(v)) for k, v in found.groupdict().items())
            if route.method == wanted:
                return Routed(role, route, route.template, in_path, self.reference(route.template))
            if known is None:
                known = Routed(None, None, route.template, in_path, self.reference(route.template))
        return known

    def reference(self, template: str) -> ReferenceRoute:
        """``template`` as a reference route whose methods are the profile's there."""
        actions = [
            (route.method, role)
            for role, route in self.profile.routes
            if route.template == template
        ]
        served = {method for method, _ in actions}
        others = sorted(self.profile.methods_at(template) - served)
        segments = tuple(template.strip("/").split("/"))
        return ReferenceRoute(segments, (*actions, *((m, "other") for m in others)))

    def header_names(self, template: str) -> tuple[str, ...]:
        """The request headers the routes at ``template`` carry values in (for a CORS
        preflight's ``Access-Control-Allow-Headers``)."""
        return header_places(self.profile, template)


@dataclass(frozen=True, slots=True)
class Canonical:
    """The contract's request for a routed one: method, raw path, and body (None: none)."""

    method: str
    path: str
    body: bytes | None


def canonical_request(
    profile: Profile, routed: Routed, request: RequestRecord, body: bytes, *, cut: bool
) -> Canonical:
    """``request`` (whose body is ``body``; ``cut``: read only up to past the size limit)
    as the contract's request for ``routed.role``."""
    role, route = routed.role, routed.route
    if role is None or route is None:
        raise ValueError("a request no role of the profile serves has no contract request")
    target = CANONICAL.route(role)
    values, sent = read_request(role, route, request, dict(routed.in_path))
    user = SINGLE_USER if not profile.users else _text(values.get("user_id", MISSING), "")
    session = _text(values.get("session_id", MISSING), BLANK_SESSION)
    path = target.path(user_id=user, session_id=session)
    if role in ("get", "delete", "status", "list"):
        return Canonical(target.method, path, None)
    if cut or sent is None:
        return Canonical(target.method, path, body)  # too long or not JSON: as it came
    if role == "create":
        return Canonical(target.method, path, encode(sent) if body else b"")
    document = contract_body(
        profile, role, route, sent, values, no_user=SINGLE_USER, no_session=BLANK_SESSION
    )
    return Canonical(target.method, path, encode(document))


def _text(value: Found, missing: str) -> str:
    if isinstance(value, Missing) or value is None:
        return missing
    return value if isinstance(value, str) else json.dumps(value)
