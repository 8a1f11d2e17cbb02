"""Routing: which route of a profile a request's path was sent to, and the ids it carried.

A route's template names ``{user_id}`` and ``{session_id}``; the profile's own variables
were filled in at load. :func:`route_pattern` matches a raw path (under a base path) and
names the ids; :func:`id_segments` gives a URL's id parameters for whichever route's
template fits it (whatever the method).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from conformance.profile.model import Profile

#: The values a path may carry.
IDS = ("user_id", "session_id")


def route_pattern(base: str, template: str) -> re.Pattern[str]:
    """The paths of a route's ``template`` under the ``base`` path: ``user_id`` and
    ``session_id`` are named groups, the profile's own variables match any segment."""
    pattern = re.escape(template)
    for name in IDS:
        pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]*)")
    pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]*", pattern)  # the profile's own variables
    return re.compile(re.escape(base) + pattern)


def id_segments(profile: Profile, url: str) -> tuple[tuple[str, str], ...]:
    """The path's id parameters (``user_id``, ``session_id``) and their decoded values,
    for whichever route's template the path fits (whatever the method)."""
    segments = path_segments(urlsplit(url).path)
    for _, route in profile.routes:
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
