"""Layouts: where a trace's requests put their ids, through the profile they were sent in.

A :class:`Layout` is a :class:`~conformance.profile.Profile` seen from the client
checks: which roles it has, and which path segments of a request are id parameters of
one of its routes (CLIENT-001 looks for lost ids there: :mod:`conformance.profile.routing`). Which role each request played,
for which user and session, and what its answer said in the contract's terms is read by
:func:`conformance.observed.observe`, through the same profile (see
:mod:`conformance.client_checks.view`). The mock serves any profile
(:mod:`conformance.mock.translation`), so every layout a profile can describe is one
the client checks can judge.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.profile import Profile
from conformance.profile.routing import id_segments, path_segments
from conformance.reference.validation import is_sentinel

__all__ = ["PREFLIGHT", "SESSION_ROLES", "Layout", "is_sentinel", "path_segments"]

#: Roles whose request names an existing session.
SESSION_ROLES = ("get", "delete", "status", "run", "run_stream")
#: The role of a CORS preflight (``OPTIONS``): the browser's, not the client code's.
PREFLIGHT = "preflight"


@dataclass(frozen=True, slots=True)
class Layout:
    profile: Profile

    @property
    def name(self) -> str:
        return self.profile.name

    def has(self, role: str) -> bool:
        return self.profile.has(role)

    def id_segments(self, url: str) -> tuple[tuple[str, str], ...]:
        """The path's id parameters (``user_id``, ``session_id``) and their decoded values,
        for whichever route's template the path fits (whatever the method)."""
        return id_segments(self.profile, url)
