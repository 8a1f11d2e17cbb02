"""Field errors: where a request keeps each field, in the contract's terms and the layout's.

A target's validation error names the faulty field where the layout keeps it
(``/sessionId``, ``/header/X-User-ID``); :func:`canonical_pointer` names it as the
contract does (``/session_id``, ``/path/user_id``), and :func:`layout_pointer` (for the
mock) the other way round. Both read the same :func:`pointer_pairs`.
"""

from __future__ import annotations

from conformance.pointers import render, tokens
from conformance.profile.model import CANONICAL_SOURCES, Route


def canonical_pointer(role: str, route: Route, pointer: str) -> str:
    """A field error's pointer in the profile's terms as the contract's pointer:
    ``/sessionId`` -> ``/session_id``, ``/header/X-User-ID`` -> ``/path/user_id``."""
    try:
        parts = tokens(pointer)
    except ValueError:
        return pointer
    best: tuple[int, tuple[str, ...]] | None = None
    for profile_parts, canonical_parts in pointer_pairs(role, route):
        size = len(profile_parts)
        if (
            size <= len(parts)
            and all(
                _same(p, t, header=profile_parts[:1] == ("header",))
                for p, t in zip(profile_parts, (_location(parts[0]), *parts[1:]), strict=False)
            )
            and (best is None or size > best[0])
        ):
            best = (size, (*canonical_parts, *parts[size:]))
    if best is None:
        return pointer
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in best[1])


def pointer_pairs(role: str, route: Route) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """``(profile tokens, contract tokens)`` for each place a request of ``role`` keeps a
    field: body renames, and where the user id, session id and message travel."""
    pairs = [
        (tokens(source.pointer), tokens(canonical))
        for canonical, source in route.request
        if source.kind in ("copy", "unit")
    ]
    for name, source in CANONICAL_SOURCES[role]:
        canonical = ("path", name) if source == "arg" else tokens(source)
        place = route.place(role, name)
        if place.where == "body":
            pairs.append((tokens(place.name), canonical))
        elif place.where in ("query", "header"):
            pairs.append(((place.where, place.name), canonical))
        elif place.where == "path":
            pairs.append((("path", name), canonical))
    return pairs


#: How validators name where a parameter was (FastAPI's ``header``, express's
#: ``headers``, ...), as the one word the profile's pairs use.
LOCATIONS = {"headers": "header", "querystring": "query", "params": "path"}


def _location(token: str) -> str:
    return LOCATIONS.get(token.lower(), token)


def _same(pattern: str, token: str, *, header: bool) -> bool:
    if header:
        return pattern.lower().replace("_", "-") == token.lower().replace("_", "-")
    return pattern == token


def layout_pointer(role: str | None, route: Route | None, pointer: str) -> str:
    """A contract pointer as the layout's (the inverse of :func:`canonical_pointer`):
    ``/session_id`` -> ``/sessionId``, ``/path/session_id`` -> ``/header/X-Session-ID``."""
    if role is None or route is None:
        return pointer
    try:
        parts = tokens(pointer)
    except ValueError:
        return pointer
    best: tuple[int, tuple[str, ...]] | None = None
    for profile_parts, canonical_parts in pointer_pairs(role, route):
        size = len(canonical_parts)
        if parts[:size] == canonical_parts and (best is None or size > best[0]):
            best = (size, (*profile_parts, *parts[size:]))
    return pointer if best is None else render(list(best[1]))
