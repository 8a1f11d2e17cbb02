"""Decoding: a target's answers read back through its profile into canonical views.

:func:`view_of` reads an answer: a success body through the role's ``response``
mapping (each field from a :class:`~conformance.profile.model.Source`), an error
through the profile's :class:`~conformance.profile.model.Envelope` with its field-error
pointers mapped to the contract's fields, a stream frame by frame. The result is a
:class:`~conformance.records.View` that the checks read instead of the raw body (which
stays the evidence); the fields the layout does not have are noted in it, with why.
The canonical profile needs no translation: its answers go through untouched.
"""

from __future__ import annotations

import copy
import datetime
import json
import re

from conformance.pointers import MISSING, Found, Missing, get, put, tokens
from conformance.profile.created import created_place
from conformance.profile.encoding import encode, strict_json
from conformance.profile.envelopes import read_error
from conformance.profile.field_errors import canonical_pointer
from conformance.profile.model import (
    SUCCESS_STATUS,
    FieldMap,
    Frames,
    Profile,
    Source,
    mapped,
)
from conformance.records import Exchange, JSONValue, ResponseRecord, View

_LINE = re.compile(rb"(\r\n|\r|\n)")


def view_of(
    profile: Profile, role: str | None, exchange: Exchange, sent: JSONValue | None = None
) -> View | None:
    """The canonical view of ``exchange``'s answer to a request for ``role`` (None: a
    request sent to no role's route), which carried ``sent`` in the contract's terms.
    None: nothing to translate."""
    response = exchange.response
    if response is None or profile.canonical:
        return None
    route = profile.route(role) if role is not None else None
    if route is not None and exchange.request.method != route.method:
        role, route = None, None  # another method on the role's path: no answer of the role
    status = response.status
    if status >= 400:
        if profile.envelope.kind == "contract" and (route is None or route.canonical):
            return None
        read = read_error(profile.envelope, response)
        body = read.body
        if body is not None and read.field_errors and role is not None and route is not None:
            body["details"] = {
                "errors": [
                    {"path": canonical_pointer(role, route, path), "message": text}
                    for path, text in read.field_errors
                ]
            }
        return View(profile.name, status, body, problems=read.problems, sent=sent)
    if role is None or route is None or route.canonical:
        return None
    if not 200 <= status < 300:
        return View(profile.name, status, response.json_or_none(), sent=sent)
    empty = not response.body and status == route.success_status  # e.g. 204, no body
    if status == route.success_status:
        status = SUCCESS_STATUS.get(role, 200)
    raw = response.json_or_none()
    absent: list[tuple[str, str]] = []
    view: JSONValue | None = raw
    if route.response is not None and (response.media_type == "application/json" or empty):
        view = _build(profile, route.response, raw, response, "", absent)
    created = created_place(route, response) if role == "create" else ""
    stream = None
    in_frames: list[tuple[str, str]] = []
    if route.frames is not None and response.media_type == "text/event-stream":
        stream = _selected_frames(profile, route.frames, response, in_frames)
    elif route.frame is not None and response.media_type == "text/event-stream":
        stream = _frames(profile, route.frame, response, in_frames)
    return View(
        profile.name,
        status,
        view,
        tuple(absent),
        stream=stream,
        sent=sent,
        frame_absent=tuple(dict.fromkeys(in_frames)),
        created_id=created,
    )


def _build(
    profile: Profile,
    mapping: FieldMap,
    raw: JSONValue | None,
    response: ResponseRecord,
    at: str,
    absent: list[tuple[str, str]],
) -> JSONValue:
    """The canonical object ``mapping`` makes of ``raw`` (absent fields noted under ``at``)."""
    view: JSONValue = {}
    for pointer, source in mapping:
        if source.kind == "absent":
            absent.append((at + pointer, source.value))
            continue
        value = _value(profile, source, raw, response, at + pointer, absent)
        if not isinstance(value, Missing):
            view = put(view, tokens(pointer), value)
    return view


def _value(
    profile: Profile,
    source: Source,
    raw: JSONValue | None,
    response: ResponseRecord,
    at: str,
    absent: list[tuple[str, str]],
) -> Found:
    if source.kind == "const":
        return source.constant()
    if source.kind == "header":
        header = response.header(source.value)
        return MISSING if header is None else header
    found = get(raw, tokens(source.pointer))
    if source.kind == "count" and source.value and (isinstance(found, Missing) or found is None):
        return source.constant()  # the count of a missing or null array (say, 0)
    if isinstance(found, Missing):
        return MISSING
    found = copy.deepcopy(found)
    if source.kind == "convert":
        return _rfc3339(found)
    if source.kind == "parts":
        return _parts(found)
    if source.kind == "map":
        return mapped(profile.value_map(source.value), found)
    if source.kind == "unit" and source.unit is not None:
        return source.unit.to_contract(found)
    if source.kind == "shape":
        return _build(profile, profile.shape(source.value), found, response, at, absent)
    if source.kind == "each":
        if not isinstance(found, list):
            return found
        shape = profile.shape(source.value)
        marks: list[tuple[str, str]] = []
        items = [_build(profile, shape, item, response, at + "/*", marks) for item in found]
        absent.extend(dict.fromkeys(marks))
        if not found:  # an empty list still says which fields its entries lack
            _build(profile, shape, {}, response, at + "/*", absent)
        return items
    if source.kind == "count":
        if not isinstance(found, list):
            return MISSING
        wanted = [(tokens(p), json.loads(v)) for p, v in source.where]
        return sum(1 for item in found if all(get(item, p) == v for p, v in wanted))
    return found


def _parts(value: JSONValue) -> JSONValue:
    """A message's text as the contract's ``parts``: a string as one text part, a list of
    content blocks as the text parts among them (anything else unchanged)."""
    if isinstance(value, str):
        return [{"text": value}]
    if isinstance(value, list):
        return [
            {"text": block["text"]}
            for block in value
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        ]
    return value


def _rfc3339(value: JSONValue) -> JSONValue:
    """Epoch seconds as an RFC 3339 time in UTC (anything else unchanged)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.datetime.fromtimestamp(value, datetime.UTC)
        except (OverflowError, OSError, ValueError):
            return value
        return moment.isoformat().replace("+00:00", "Z")
    return value


def _frames(
    profile: Profile, shape: str, response: ResponseRecord, absent: list[tuple[str, str]]
) -> bytes:
    """The stream with each single-line ``data:`` frame's JSON object mapped to the
    canonical Event (other lines as they are); the Event's fields the layout lacks are
    noted in ``absent``."""
    mapping = profile.shape(shape)
    out: list[bytes] = []
    for piece in _LINE.split(response.body):
        if piece.startswith(b"data:"):
            payload = piece[5:].removeprefix(b" ")
            value = strict_json(payload)
            if isinstance(value, dict):
                piece = b"data: " + encode(_build(profile, mapping, value, response, "", absent))
        out.append(piece)
    return b"".join(out)


def _selected_frames(
    profile: Profile, frames: Frames, response: ResponseRecord, absent: list[tuple[str, str]]
) -> bytes:
    """The stream as canonical Events: of each frame whose ``event:`` name is selected,
    one ``data:`` frame per element at ``frames.each`` (mapped through its shape); the
    other frames left out. The Event's fields the layout lacks are noted in ``absent``."""
    mapping = profile.shape(frames.shape)
    out: list[bytes] = []
    text = response.body.decode("utf-8", "replace")
    for block in re.split(r"\r\n\r\n|\n\n|\r\r", text):
        event, data = "message", []
        for line in re.split(r"\r\n|\r|\n", block):
            name, _, rest = line.partition(":")
            if name == "event":
                event = rest.removeprefix(" ")
            elif name == "data":
                data.append(rest.removeprefix(" "))
        if not data or (frames.event and event != frames.event):
            continue
        value = strict_json("\n".join(data).encode("utf-8"))
        for item in _elements(value, tokens(frames.each)):
            if isinstance(item, dict):
                event_view = _build(profile, mapping, item, response, "", absent)
                out.append(b"data: " + encode(event_view))
                out.append(b"\n\n")
    return b"".join(out)


def _elements(value: Found, parts: tuple[str, ...]) -> list[JSONValue]:
    """The values ``parts`` names in ``value``: an array's elements at the end, and ``*``
    for every key of an object or index of an array on the way."""
    if isinstance(value, Missing):
        return []
    if not parts:
        return list(value) if isinstance(value, list) else [value]
    head, rest = parts[0], parts[1:]
    if head == "*":
        children = (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        )
        return [item for child in children for item in _elements(child, rest)]
    return _elements(get(value, (head,)), rest)
