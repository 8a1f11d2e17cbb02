"""Profiles: where a target keeps each role of the session protocol.

A *role* is one step of the protocol (create, get, list, delete, status, run,
run_stream). A profile maps each role to a method and a path template. The canonical
layout of the contract is itself just the default profile, :data:`CANONICAL`.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

ROLES = ("create", "get", "list", "delete", "status", "run", "run_stream")


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str

    def path(self, *, user_id: str | None = None, session_id: str | None = None) -> str:
        """The path with ``{user_id}`` and ``{session_id}`` filled in, each percent-encoded
        as one opaque segment (so ``[object Object]`` or ``a/b`` stay one segment)."""
        path = self.template
        if "{user_id}" in path:
            if user_id is None:
                raise ValueError(f"{self.template} needs a user id")
            path = path.replace("{user_id}", quote(user_id, safe=""))
        if "{session_id}" in path:
            if session_id is None:
                raise ValueError(f"{self.template} needs a session id")
            path = path.replace("{session_id}", quote(session_id, safe=""))
        return path


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    routes: tuple[tuple[str, Route], ...]

    def route(self, role: str) -> Route:
        for name, route in self.routes:
            if name == role:
                return route
        raise KeyError(f"profile {self.name!r} has no {role!r} route")

    def has(self, role: str) -> bool:
        return any(name == role for name, _ in self.routes)

    def methods_at(self, template: str) -> frozenset[str]:
        """Every method the profile serves on one path template (for 405 ``Allow``)."""
        return frozenset(route.method for _, route in self.routes if route.template == template)


CANONICAL = Profile(
    name="canonical",
    routes=(
        ("create", Route("POST", "/users/{user_id}/sessions")),
        ("list", Route("GET", "/users/{user_id}/sessions")),
        ("get", Route("GET", "/users/{user_id}/sessions/{session_id}")),
        ("delete", Route("DELETE", "/users/{user_id}/sessions/{session_id}")),
        ("status", Route("GET", "/users/{user_id}/sessions/{session_id}/status")),
        ("run", Route("POST", "/run")),
        ("run_stream", Route("POST", "/run_sse")),
    ),
)
