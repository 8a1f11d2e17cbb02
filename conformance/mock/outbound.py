"""The reference's answers said in a profile's layout: what the mock sends back.

The inverse of :func:`conformance.layout.view_of`, so that a client reading the mock
through the profile sees what the reference said. A success body is written through the
role's ``response`` mapping backwards (each ``copy`` source gets the canonical value at
its pointer, a ``shape``/``each`` its object or array written through the shape, a
``count`` as many entries matching its ``where`` as the count, a ``convert`` converted
back, ``parts`` joined to their text, a ``header`` source a response header; ``const``
and ``absent`` fields are the view's own and write nothing); the role's success status
replaces the contract's; a stream's events are written frame by frame through the
route's ``frame`` or ``frames``. An error is written in the profile's
:class:`~conformance.profile.Envelope` (its pointers, its media type), its field-error
pointers moved to the layout's places; where the envelope has no code member, the
message is chosen so that the envelope's code rules read the reference's code back.
Everything here is derived from the :class:`Profile`.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import AsyncIterator, Mapping

from conformance.envelopes import read_error
from conformance.layout import encode, pointer_pairs
from conformance.pointers import MISSING, Found, Missing, get, put, render, tokens
from conformance.profile import SUCCESS_STATUS, Envelope, FieldMap, Frames, Profile, Route
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


async def frames_in_layout(
    profile: Profile, route: Route, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """The reference's ``data: <Event>`` frames, each written as the layout's frame."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            yield frame_in_layout(profile, route, frame) + b"\n\n"
    if buffer:
        yield frame_in_layout(profile, route, buffer)


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


def layout_pointer(role: str | None, route: Route | None, pointer: str) -> str:
    """A contract pointer as the layout's (the inverse of
    :func:`conformance.layout.canonical_pointer`): ``/session_id`` -> ``/sessionId``,
    ``/path/session_id`` -> ``/header/X-Session-ID``."""
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


def moved_headers(headers: Mapping[str, str], drop: frozenset[str]) -> dict[str, str]:
    """The reference's response headers a translated answer keeps (not its framing)."""
    skipped = drop | {"content-length", "content-type"}
    return {k: v for k, v in headers.items() if k.lower() not in skipped}
