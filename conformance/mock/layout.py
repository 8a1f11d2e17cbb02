"""Layouts: where the mock keeps each role, and so where a request names its ids.

A :class:`Layout` is a :class:`~conformance.profile.Profile` (role -> method and path
template) plus the body fields that carry the user and session ids. It turns a recorded
request into a :class:`Call`: which role it played, for which user and which session.
The verifier judges every client clause through a layout, never through paths written
into a check, so a later profile (an ADK-style or header-style backend) plugs in here.
Only the contract's canonical layout exists today.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from conformance.profile import CANONICAL, Profile
from conformance.reference.validation import is_sentinel

__all__ = ["CANONICAL_LAYOUT", "LAYOUTS", "Call", "Layout", "is_sentinel"]

#: Roles whose request names an existing session.
SESSION_ROLES = ("get", "delete", "status", "run", "run_stream")
PREFLIGHT = "preflight"


@dataclass(frozen=True, slots=True)
class Call:
    """What one request was, in the protocol's terms.

    ``role`` is a profile role (``create``, ``status``, ...), ``preflight`` for a CORS
    ``OPTIONS``, or None for a request no route of the layout serves. ``session_id`` is
    the session the request names (for ``create``: the id the client chose, if any).
    """

    role: str | None
    user_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Layout:
    profile: Profile
    #: Body fields of a run request naming the user and the session.
    run_user_field: str = "user_id"
    run_session_field: str = "session_id"
    #: Body field of a create request carrying a client-chosen session id.
    create_session_field: str = "session_id"

    @property
    def name(self) -> str:
        return self.profile.name

    def has(self, role: str) -> bool:
        return self.profile.has(role)

    def classify(self, method: str, url: str, body: bytes) -> Call:
        """The call a request made (``url`` may be absolute or a bare path)."""
        segments = path_segments(urlsplit(url).path)
        method = method.upper()
        for role, route in self.profile.routes:
            params = _match(route.template, segments)
            if params is None:
                continue
            if method == "OPTIONS":
                return Call(PREFLIGHT, params.get("user_id"), params.get("session_id"))
            wanted = "GET" if method == "HEAD" else method
            if route.method != wanted:
                continue
            user_id, session_id = params.get("user_id"), params.get("session_id")
            if role in ("run", "run_stream"):
                fields = _json_object(body)
                user_id = _string(fields.get(self.run_user_field), user_id)
                session_id = _string(fields.get(self.run_session_field), session_id)
            elif role == "create":
                session_id = _string(_json_object(body).get(self.create_session_field), None)
            return Call(role, user_id, session_id)
        return Call(PREFLIGHT if method == "OPTIONS" else None)

    def id_segments(self, url: str) -> tuple[tuple[str, str], ...]:
        """The path's id parameters (``user_id``, ``session_id``) and their decoded values,
        for whichever route's template the path fits (whatever the method)."""
        segments = path_segments(urlsplit(url).path)
        for _, route in self.profile.routes:
            params = _match(route.template, segments)
            if params is not None:
                return tuple(sorted(params.items()))
        return ()


def path_segments(path: str) -> list[str]:
    """A raw path's segments, each percent-decoded on its own (``a%2Fb`` stays one)."""
    if not path.startswith("/"):
        return [unquote(path)]
    return [unquote(segment, errors="replace") for segment in path[1:].split("/")]


def _match(template: str, segments: list[str]) -> dict[str, str] | None:
    parts = template.strip("/").split("/")
    if len(parts) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(parts, segments, strict=True):
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = segment
        elif part != segment:
            return None
    return params


def _json_object(body: bytes) -> dict[str, object]:
    try:
        data = json.loads(body.decode("utf-8")) if body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _string(value: object, default: str | None) -> str | None:
    if isinstance(value, str):
        return value
    if value is None:
        return default
    return json.dumps(value)


CANONICAL_LAYOUT = Layout(CANONICAL)
LAYOUTS: dict[str, Layout] = {CANONICAL_LAYOUT.name: CANONICAL_LAYOUT}
