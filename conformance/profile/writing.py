"""Writing: the contract's answers said in a profile's layout (what the mock sends back).

The inverse of :func:`conformance.profile.decoding.view_of`, so that a client reading the mock
through the profile sees what the reference said. A success body is written through the
role's ``response`` mapping backwards (each ``copy`` source gets the canonical value at
its pointer, a ``shape``/``each`` its object or array written through the shape, a
``count`` as many entries matching its ``where`` as the count, a ``convert`` converted
back, ``parts`` joined to their text, a ``header`` source a response header; ``const``
and ``absent`` fields are the view's own and write nothing); the role's success status
replaces the contract's; a stream's events are written frame by frame through the
route's ``frame`` or ``frames``. An error is written in the profile's
:class:`~conformance.profile.model.Envelope` (its pointers, its media type), its field-error
pointers moved to the layout's places; where the envelope has no code member, the
message is chosen so that the envelope's code rules read the reference's code back.
Everything here is derived from the :class:`Profile`.
"""

from __future__ import annotations

import datetime
import json
import re

from conformance.pointers import MISSING, Found, Missing, get, put, tokens
from conformance.profile.encoding import encode
from conformance.profile.envelopes import read_error
from conformance.profile.field_errors import layout_pointer
from conformance.profile.model import (
    SUCCESS_STATUS,
    Envelope,
    FieldMap,
    Frames,
    Profile,
    Route,
)
from conformance.records import JSONValue, ResponseRecord

#: The object key that stands for a ``*`` of a ``frames.each`` pointer (a graph node's
#: name in LangGraph's ``updates``).
ANY_KEY = "mock"
_OPTIONAL = re.compile(r"\((?:[^()\\]|\\.)*\)\?")


def success_body(
    profile: Profile, route: Route, canonical: JSONValue
) -> tuple[JSONValue, dict[str, str]]:
    """A success answer's body in the layout, and the headers its mapping puts values in."""
    headers: dict[str, str] = {}
    if route.response is None:
        return canonical, headers
    return unbuild(profile, route.response, canonical, headers), headers


def success_status(role: str, route: Route, status: int) -> int:
    """The layout's success status where the contract names another (201 -> 200)."""
    if route.success_status is not None and status == SUCCESS_STATUS.get(role, 200):
        return route.success_status
    return status


def unbuild(
    profile: Profile, mapping: FieldMap, canonical: JSONValue, headers: dict[str, str]
) -> JSONValue:
    """The layout's object whose view through ``mapping`` is ``canonical``."""
    raw: JSONValue = {}
    for pointer, source in mapping:
        value = get(canonical, tokens(pointer))
        if isinstance(value, Missing) or source.kind in ("const", "absent"):
            continue
        written: Found = MISSING
        if source.kind == "copy":
            written = value
        elif source.kind == "convert":
            written = _epoch(value)
        elif source.kind == "unit" and source.unit is not None:
            written = source.unit.to_layout(value, whole=False)
        elif source.kind == "parts":
            written = _joined(value)
        elif source.kind == "shape":
            written = unbuild(profile, profile.shape(source.value), value, headers)
        elif source.kind == "each" and isinstance(value, list):
            shape = profile.shape(source.value)
            written = [unbuild(profile, shape, item, headers) for item in value]
        elif source.kind == "count" and isinstance(value, int):
            written = [_matching(source.where) for _ in range(value)]
        elif source.kind == "header":
            headers[source.value] = value if isinstance(value, str) else json.dumps(value)
        if not isinstance(written, Missing):
            raw = put(raw, tokens(source.pointer), written)
    return raw


def _matching(where: tuple[tuple[str, str], ...]) -> JSONValue:
    item: JSONValue = {}
    for pointer, value in where:
        item = put(item, tokens(pointer), json.loads(value))
    return item


def _epoch(value: JSONValue) -> JSONValue:
    """An RFC 3339 time as epoch seconds (the inverse of the ``rfc3339`` conversion)."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return value


def _joined(value: JSONValue) -> JSONValue:
    """The contract's ``parts`` as one text (the inverse of the ``parts`` source)."""
    if not isinstance(value, list):
        return value
    return "".join(str(part["text"]) for part in value if isinstance(part, dict) and "text" in part)


# -- streams ----------------------------------------------------------------------------------


def frame_in_layout(profile: Profile, route: Route, frame: bytes) -> bytes:
    if not frame.startswith(b"data:") or (route.frame is None and route.frames is None):
        return frame
    event = json.loads(frame[5:].decode("utf-8"))
    if route.frames is not None:
        item = unbuild(profile, profile.shape(route.frames.shape), event, {})
        named = f"event: {route.frames.event}\n".encode() if route.frames.event else b""
        return named + b"data: " + encode(_nested(route.frames, item))
    assert route.frame is not None
    return b"data: " + encode(unbuild(profile, profile.shape(route.frame), event, {}))


def _nested(frames: Frames, item: JSONValue) -> JSONValue:
    """A frame's object holding ``item`` as the one element at ``frames.each``."""
    parts = tokens(frames.each)
    if not parts:
        return item
    value: JSONValue = [item]
    for part in reversed(parts):
        value = {ANY_KEY if part == "*" else part: value}
    return value


# -- errors -----------------------------------------------------------------------------------


def error_body(
    profile: Profile, role: str | None, route: Route | None, status: int, canonical: JSONValue
) -> tuple[bytes, str]:
    """A contract error envelope written in the profile's envelope: body and media type."""
    envelope = profile.envelope
    fields = canonical if isinstance(canonical, dict) else {}
    code = str(fields.get("error", "INTERNAL_ERROR"))
    message = str(fields.get("message", ""))
    details = fields.get("details")
    errors: list[tuple[str, str]] = []
    if isinstance(details, dict) and isinstance(details.get("errors"), list):
        for entry in details["errors"]:  # type: ignore[union-attr]
            if isinstance(entry, dict):
                path, text = str(entry.get("path", "")), str(entry.get("message", ""))
                errors.append((layout_pointer(role, route, path), text))
    if envelope.kind == "contract":
        body = dict(fields)
        if errors and isinstance(details, dict):
            moved: list[JSONValue] = [{"path": p, "message": m} for p, m in errors]
            body["details"] = {**details, "errors": moved}
        return encode(body), envelope.media_type
    for candidate in _messages(envelope, status, code, message):
        written = _written(envelope, status, code, candidate, errors)
        record = ResponseRecord(status, (("content-type", envelope.media_type),), written)
        read = read_error(envelope, record).body
        if read is not None and read.get("error") == code:
            return written, envelope.media_type
    return _written(envelope, status, code, message, errors), envelope.media_type


def _written(
    envelope: Envelope, status: int, code: str, message: str, errors: list[tuple[str, str]]
) -> bytes:
    body: JSONValue = {}
    if envelope.kind == "problem+json":
        body = {"type": "about:blank", "title": message, "status": status}
    if envelope.code is not None:
        body = put(body, tokens(envelope.code), code)
    body = put(body, tokens(envelope.message), message)
    if errors and envelope.errors is not None:
        entries: list[JSONValue] = []
        for path, text in errors:
            entry: JSONValue = {}
            where: JSONValue = _loc(path) if envelope.kind == "fastapi" else path
            entry = put(entry, tokens(envelope.error_path), where)
            entry = put(entry, tokens(envelope.error_message), text)
            entries.append(entry)
        body = put(body, tokens(envelope.errors), entries)
    return encode(body)


def _messages(envelope: Envelope, status: int, code: str, message: str) -> list[str]:
    """Messages to try, the reference's first: then each with an example of a code rule's
    pattern for ``code`` before or after it, then the example alone."""
    tried = [message]
    for rule in envelope.codes:
        if rule.code != code or rule.status not in (None, status) or rule.message is None:
            continue
        example = _example(rule.message)
        tried += [f"{example}: {message}", f"{message} ({example})", example]
    return tried


def _example(pattern: str) -> str:
    """A plain text a simple pattern matches: anchors and optional groups left out,
    escapes undone (``^Thread (with ID .* )?not found`` -> ``Thread not found``)."""
    text = pattern.removeprefix("^").removesuffix("$")
    while _OPTIONAL.search(text):
        text = _OPTIONAL.sub("", text)
    return re.sub(r"\\(.)", r"\1", text)


def _loc(pointer: str) -> JSONValue:
    """A pointer as FastAPI's ``loc``: parameters keep their location, body fields are
    under ``body``; array indexes are numbers."""
    parts: list[JSONValue] = [int(t) if t.isdigit() else t for t in tokens(pointer)]
    if parts and parts[0] in ("path", "query", "header", "cookie"):
        return parts
    return ["body", *parts]


def created_headers(profile: Profile, route: Route, canonical: JSONValue) -> dict[str, str]:
    """The headers a create answer names the new session in, in the layout: each
    ``header:NAME`` of the route's ``created_id``, and a ``Location`` where the layout has
    one (its get route names sessions by path alone)."""
    sid = canonical.get("session_id") if isinstance(canonical, dict) else None
    if not isinstance(sid, str):
        return {}
    headers = {
        where.removeprefix("header:"): sid
        for where in route.created_id
        if where.startswith("header:")
    }
    location = _location(profile, canonical, sid)
    if location is not None:
        headers["Location"] = location
    return headers


def _location(profile: Profile, canonical: JSONValue, sid: str) -> str | None:
    """Where the layout's get route names the new session, if the layout has a
    ``Location`` at all and its get route names sessions by path alone."""
    if "location" not in profile.features or not profile.has("get"):
        return None
    get_route = profile.route("get")
    if get_route.place("get", "session_id").where != "path":
        return None
    session = canonical.get("session") if isinstance(canonical, dict) else None
    user = session.get("user_id") if isinstance(session, dict) else None
    if profile.users and (
        get_route.place("get", "user_id").where != "path" or not isinstance(user, str)
    ):
        return None
    return get_route.path(user_id=user if isinstance(user, str) else None, session_id=sid)
