"""Created ids: where a create answer names the new session, read through the profile.

A create route may list the places its answer names the session in (``created_id``:
pointers into the body, ``location`` — the last path segment of ``Location`` — or
``header:NAME``); without them the id is the canonical view's ``session_id``. This is
the one reading of them: the contract client, the stateful model, observed traces and
reproduction scripts all ask :func:`created_id` / :func:`created_ids` / :func:`created_at`.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from conformance.pointers import Missing, get, tokens
from conformance.profile.model import Profile, Route
from conformance.records import Exchange, JSONValue, ResponseRecord


def created_id(profile: Profile, exchange: Exchange) -> str | None:
    """The session id a create answer returned, if it returned a usable one: the first
    place the profile names that shows a non-blank id (by default its ``session_id``)."""
    for _, found in created_ids(profile, exchange):
        if isinstance(found, str) and found.strip():
            return found
    return None


def created_ids(profile: Profile, exchange: Exchange) -> tuple[tuple[str, JSONValue], ...]:
    """What a create answer shows in each place the profile names for the session id, in
    the profile's order (one session, one id: every place must show the same); without
    such places, the canonical view's ``session_id`` (as ``/session_id``)."""
    places = profile.route("create").created_id if profile.has("create") else ()
    if not places:
        body = exchange.body_json()
        return (("/session_id", body.get("session_id") if isinstance(body, dict) else None),)
    response = exchange.response
    if response is None:
        return ()
    return tuple((place, created_at(response, place)) for place in places)


def created_at(response: ResponseRecord, place: str) -> JSONValue:
    """What a create answer shows at ``place`` (a JSON pointer into its body,
    ``location``: the last path segment of ``Location``, or ``header:NAME``); None: nothing."""
    if place == "location":
        location = response.header("location")
        if not location:
            return None
        return unquote(urlsplit(location.strip()).path.rstrip("/").rpartition("/")[2])
    if place.startswith("header:"):
        return response.header(place.removeprefix("header:"))
    found = get(response.json_or_none(), tokens(place))
    return None if isinstance(found, Missing) else found


def created_place(route: Route, response: ResponseRecord) -> str:
    """The first place the create route names the session in that shows an id here: its
    ``created_id`` places, else where its view's ``session_id`` comes from."""
    places = route.created_id
    if not places:
        mapping = dict(route.response or ())
        source, rest = mapping.get("/session_id"), ""
        if source is None and "" in mapping:  # the whole answer copied: its session_id
            source, rest = mapping[""], "/session_id"
        if route.response is None:
            places = ("/session_id",)
        elif source is not None and source.kind == "copy":
            places = (source.pointer + rest,)
        elif source is not None and source.kind == "header" and not rest:
            places = (f"header:{source.value}",)
    for place in places:
        found = created_at(response, place)
        if isinstance(found, str) and found.strip():
            return place
    return ""
