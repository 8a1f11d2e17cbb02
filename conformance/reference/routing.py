"""The canonical routes, and matching a request path against them.

Paths are matched segment by segment on the *raw* (still percent-encoded) path, each
segment decoded on its own, so a session id such as ``a%2Fb`` stays one opaque segment
instead of becoming two. A base prefix (ASGI ``root_path``) is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from starlette.types import Scope


@dataclass(frozen=True, slots=True)
class Route:
    """One path template and the action each method maps to.

    ``template`` is a tuple of segments; ``{name}`` segments capture one path segment
    (possibly empty) as parameter ``name``. ``HEAD`` is served wherever ``GET`` is.
    """

    template: tuple[str, ...]
    actions: tuple[tuple[str, str], ...]

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods the contract names for this route, e.g. ``("POST", "GET")``."""
        return tuple(method for method, _ in self.actions)

    @property
    def allow(self) -> str:
        """The ``Allow`` header: the route's methods, then ``HEAD`` and ``OPTIONS``."""
        extra = ("HEAD",) if "GET" in self.methods else ()
        return ", ".join((*self.methods, *extra, "OPTIONS"))

    def action_for(self, method: str) -> str | None:
        wanted = "GET" if method == "HEAD" else method
        return next((action for m, action in self.actions if m == wanted), None)

    def match(self, segments: list[str]) -> dict[str, str] | None:
        if len(segments) != len(self.template):
            return None
        params: dict[str, str] = {}
        for part, segment in zip(self.template, segments, strict=True):
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = segment
            elif part != segment:
                return None
        return params


ROUTES: tuple[Route, ...] = (
    Route(("users", "{user_id}", "sessions"), (("POST", "create"), ("GET", "list"))),
    Route(
        ("users", "{user_id}", "sessions", "{session_id}"), (("GET", "get"), ("DELETE", "delete"))
    ),
    Route(("users", "{user_id}", "sessions", "{session_id}", "status"), (("GET", "status"),)),
    Route(("run",), (("POST", "run"),)),
    Route(("run_sse",), (("POST", "run_sse"),)),
)


def route_path(scope: Scope) -> str:
    """The decoded path below the base prefix (``root_path``)."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :]
    return path


def path_segments(scope: Scope) -> list[str]:
    """The route path's segments, each percent-decoded separately.

    Taken from ``raw_path`` when the server gives one: the shortest run of its last
    segments that decodes to the route path. Otherwise the decoded path is split.
    """
    decoded = route_path(scope)
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        parts = raw.decode("latin-1").split("?", 1)[0].split("/")
        for count in range(1, len(parts)):
            tail = parts[len(parts) - count :]
            if unquote("/" + "/".join(tail)) == decoded:
                return [unquote(segment, errors="replace") for segment in tail]
    return decoded.split("/")[1:] if decoded.startswith("/") else [decoded]


def find_route(
    segments: list[str], routes: tuple[Route, ...] = ROUTES
) -> tuple[Route, Mapping[str, str]] | None:
    for route in routes:
        params = route.match(segments)
        if params is not None:
            return route, params
    return None
