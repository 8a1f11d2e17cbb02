"""Reading: a request in a profile's layout read back as the contract's request.

The inverse of :mod:`~conformance.profile.encoding`, for what sees requests in a
target's layout: a recorded trace (:mod:`conformance.observed`) and the mock serving a
profile (:mod:`conformance.mock.inbound`). :func:`read_request` finds the user id,
session id and message wherever the layout keeps them (path, query, header or body) and
writes the body back under the contract's names; :func:`unshaped` undoes a message form;
:func:`contract_body` writes a run body back as the contract's (:func:`pruned` drops
what only held the layout's own places); :func:`header_places` names
the headers the routes at one path carry values in.
"""

from __future__ import annotations

import copy
import json
from urllib.parse import parse_qsl, urlsplit

from conformance.pointers import MISSING, Found, Missing, get, pop, put, tokens
from conformance.profile.model import CANONICAL_SOURCES, MessageForm, Profile, Route
from conformance.records import JSONValue, RequestRecord


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
        if source.kind not in ("copy", "unit"):
            continue
        value = pop(document, tokens(source.pointer))
        if not isinstance(value, Missing):
            moved.append(
                (canonical, value if source.unit is None else source.unit.to_contract(value))
            )
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


def contract_body(
    profile: Profile,
    role: str,
    route: Route,
    sent: JSONValue,
    values: dict[str, Found],
    *,
    no_user: str,
    no_session: str,
) -> JSONValue:
    """A run body read back (``sent`` and ``values``, from :func:`read_request`) as the
    contract writes it: what only held the layout's places dropped, the message unshaped,
    ``no_user`` as the user of a layout without users, ``no_session`` for a session id
    the request carried outside its body and left out."""
    document = pruned(role, route, sent)
    if isinstance(document, dict):
        if not profile.users:
            document["user_id"] = no_user
        if route.place(role, "session_id").where != "body":
            document.setdefault("session_id", no_session)  # a header or query left out
        message = values.get("message", MISSING)
        if route.message_form is not None and not isinstance(message, Missing):
            document["new_message"] = unshaped(route.message_form, message)
    return document


def unshaped(form: MessageForm, message: JSONValue) -> JSONValue:
    """A message written in ``form`` as the contract writes it (the inverse of
    :func:`conformance.profile.encoding.reshaped`); what the form cannot have come from is left as
    it is, for the reference to refuse."""
    value: JSONValue = message
    if form.wrap:
        if not isinstance(value, list) or len(value) != 1:
            return message
        value = value[0]
    if not isinstance(value, dict):
        return message
    written: dict[str, JSONValue] = {}
    role: Found = get(value, tokens(form.role)) if form.role else "user"
    if not isinstance(role, Missing):
        written["role"] = role
    text = get(value, tokens(form.text or "/parts"))
    if isinstance(text, str) and form.text:
        written["parts"] = [{"text": text}]
    elif not isinstance(text, Missing):
        written["parts"] = text
    return written


def pruned(role: str, route: Route, document: JSONValue) -> JSONValue:
    """``document`` without the objects that only held the layout's own places (a
    message at ``/input/messages`` read out of the body leaves ``input`` empty)."""
    pointers = [pointer for pointer, _ in route.constants]
    for name, _ in CANONICAL_SOURCES.get(role, ()):
        place = route.place(role, name)
        if place.where == "body":
            pointers.append(place.name)
    for pointer in pointers:
        parts = tokens(pointer)
        for size in range(len(parts) - 1, 0, -1):
            if get(document, parts[:size]) == {}:
                pop(document, parts[:size])
    return document


def header_places(profile: Profile, template: str) -> tuple[str, ...]:
    """The request headers the routes at ``template`` carry values in (for a CORS
    preflight's ``Access-Control-Allow-Headers``)."""
    names: list[str] = []
    for role, route in profile.routes:
        if route.template != template:
            continue
        for name, _ in CANONICAL_SOURCES.get(role, ()):
            place = route.place(role, name)
            if place.where == "header":
                names.append(place.name)
    return tuple(dict.fromkeys(names))
