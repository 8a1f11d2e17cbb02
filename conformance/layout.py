"""Layouts: the contract's requests sent in a profile's layout, its answers read back.

Checks write every request in the contract's terms: a role, the ids the path would
carry, a canonical body (valid or deliberately not). :func:`outgoing` puts it in the
profile's layout: each value (user id, session id, message) where the profile keeps it —
path, query, header or body — the other body fields renamed, constants added. Fields the
profile does not know pass through unchanged, so an unknown field stays unknown and a
wrong-typed ``session_id`` lands, still wrong-typed, on the profile's ``sessionId``. What
the layout cannot carry (a null session id in a header, a field the layout has no
place for) raises :class:`~conformance.profile.NotInLayout`.

:func:`view_of` reads an answer back: a success body through the role's ``response``
mapping, an error through the profile's :class:`~conformance.profile.Envelope` with its
field-error pointers mapped to the contract's fields, a stream frame by frame. The
result is a :class:`~conformance.records.View` that the checks read instead of the raw
body (which stays the evidence). The canonical profile needs no translation: its
requests and answers go through untouched.
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from conformance.envelopes import read_error
from conformance.pointers import MISSING, Found, Missing, covers, get, pop, put, tokens
from conformance.profile import (
    CANONICAL_SOURCES,
    SUCCESS_STATUS,
    FieldMap,
    Frames,
    MessageForm,
    NotInLayout,
    Place,
    Profile,
    Route,
    Source,
    mapped,
)
from conformance.records import Exchange, JSONValue, ResponseRecord, View

#: Sentinel ids (matched after trimming, case-insensitively, as the contract says): the
#: one kind of padded id a header may carry trimmed, since trimming cannot change its
#: verdict.
SENTINELS = frozenset({"", "undefined", "null", "none", "nil", "nan", "[object object]"})
_LINE = re.compile(rb"(\r\n|\r|\n)")
#: A raw body at least this long is a size probe: shorter in the layout, it is padded
#: back to its size with JSON whitespace (longer, it stays longer).
SIZED = 64 * 1024


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One request as the target's layout wants it."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    content: bytes | None
    #: The JSON body as the check wrote it, in the contract's terms (None: none).
    sent: JSONValue | None = None


def encode(body: JSONValue) -> bytes:
    """Compact UTF-8 JSON, the way a client would send it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def outgoing(
    profile: Profile,
    role: str,
    *,
    method: str | None,
    user_id: str | None,
    session_id: str | None,
    body: JSONValue | None,
    raw: bytes | None,
    headers: Mapping[str, str],
    omit: frozenset[str] = frozenset(),
) -> Outgoing:
    """The request for ``role`` in ``profile``'s layout (see the module docstring);
    the values named in ``omit`` are left out (where the layout can leave them out)."""
    route = profile.route(role)
    verb = method or route.method
    headers_out = dict(headers)
    content = encode(body) if body is not None else raw
    for name in omit:
        if route.place(role, name).where == "path":
            where = f"profile {profile.name!r}: the {role} request's {name} travels in the path"
            raise NotInLayout(f"{where}, which cannot leave it out")
    if route.canonical:
        path = route.path(user_id=user_id, session_id=session_id)
        return Outgoing(verb, path, (), headers_out, content)
    document: Found = MISSING
    if body is not None:
        document = copy.deepcopy(body)
    elif raw is not None:
        document = _strict_json(raw)
    sent = None if isinstance(document, Missing) else copy.deepcopy(document)
    args: dict[str, Found] = {
        "user_id": MISSING if user_id is None else user_id,
        "session_id": MISSING if session_id is None else session_id,
    }
    values: dict[str, Found] = {}
    for name, source in CANONICAL_SOURCES[role]:
        if source == "arg" or not isinstance(document, dict):
            # A body that is not a JSON object (raw bytes, truncated, not JSON) holds no
            # value: the ids the check gave still go to their places (a header, the
            # query), so the request differs from a valid one by its body alone.
            values[name] = args.get(name, MISSING)
        else:
            values[name] = pop(document, tokens(source))
    if isinstance(document, dict):
        document = _renamed(profile, role, route, document)
    preflight = verb == "OPTIONS"
    if isinstance(document, Missing) and raw is None and route.constants and not preflight:
        document = {}  # a role the layout sends a body for (its constants) though the contract has none
    form = route.message_form
    if form is not None and not isinstance(values.get("message", MISSING), Missing):
        values["message"] = reshaped(profile, role, form, values["message"])
    in_path: dict[str, str] = {}
    params: list[tuple[str, str]] = []
    named: list[str] = []
    for name, value in values.items():
        place = route.place(role, name)
        if place.where == "none" or (preflight and place.where == "body") or name in omit:
            continue
        if place.where == "body":
            if isinstance(value, Missing):
                continue
            if document is MISSING and raw is None:
                document = {}
            if isinstance(document, dict):
                document = put(document, tokens(place.name), value)
            continue
        if isinstance(value, Missing) and isinstance(document, Missing):
            continue  # no JSON body (not JSON, or none): no value to place
        text = _text(profile, role, name, place, value)
        if place.where == "path":
            in_path[name] = text
        elif place.where == "query":
            params.append((place.name, text))
        else:
            named.append(place.name)
            if not preflight and not any(k.lower() == place.name.lower() for k in headers_out):
                headers_out[place.name] = text
    for name in ("user_id", "session_id"):
        if route.place(role, name).where == "path" and name not in in_path:
            where = f"profile {profile.name!r}: the {role} request's {name} travels in the path"
            raise NotInLayout(f"{where}, which cannot carry no value (none was given)")
    if isinstance(document, dict) and not preflight:
        for pointer, constant in route.constants:
            document = put(document, tokens(pointer), json.loads(constant))
        if isinstance(sent, dict):
            _dropped_still_there(profile, role, route, values, document)
    if preflight and named:
        _ask_for(headers_out, named)
    if isinstance(document, Missing):
        content = raw  # not JSON (or no body): sent as the check wrote it
    else:
        content = encode(document)
        if raw is not None and len(raw) >= SIZED and len(content) < len(raw):
            content += b" " * (len(raw) - len(content))  # a size probe keeps its size
    return Outgoing(verb, route.path(**in_path), tuple(params), headers_out, content, sent)


def _dropped_still_there(
    profile: Profile, role: str, route: Route, values: dict[str, Found], document: JSONValue
) -> None:
    """:class:`NotInLayout` when a value the contract's body left out (a dropped
    ``new_message``) is still there in the layout's body (a constant, a renamed field
    filled it): the request would go out valid, its fault lost in translation."""
    for name, value in values.items():
        place = route.place(role, name)
        if place.where != "body" or not isinstance(value, Missing):
            continue
        if not isinstance(get(document, tokens(place.name)), Missing):
            raise NotInLayout(
                f"profile {profile.name!r}: a {role} body without its {name} still has "
                f"{place.name} in this layout, so it cannot be sent without one"
            )


def reshaped(profile: Profile, role: str, form: MessageForm, message: Found) -> JSONValue:
    """The contract's message written in ``form``, or :class:`NotInLayout` for a message
    the form cannot carry (it is never sent as another message)."""
    where = f"profile {profile.name!r}: the {role} request's message is written reshaped"
    if not isinstance(message, dict):
        raise NotInLayout(f"{where}, which cannot carry the JSON {message!r}")
    unknown = sorted(set(message) - {"role", "parts"})
    if unknown:
        raise NotInLayout(f"{where}, which has no place for its field(s) {', '.join(unknown)}")
    role_value, parts = message.get("role", MISSING), message.get("parts", MISSING)
    if not isinstance(role_value, str) or not isinstance(parts, list) or not parts:
        raise NotInLayout(f"{where}, which needs a role and a non-empty parts list")
    texts: list[str] = []
    for part in parts:
        if not isinstance(part, dict) or set(part) != {"text"} or not isinstance(part["text"], str):
            raise NotInLayout(f"{where}, which carries only parts that are {{text: string}}")
        texts.append(part["text"])
    if form.string:
        if role_value != "user":
            raise NotInLayout(f"{where} as its text alone, which carries no role {role_value!r}")
        return "".join(texts)
    written: JSONValue = {}
    if form.role:
        written = put(written, tokens(form.role), role_value)
    body: JSONValue = "".join(texts) if form.text else copy.deepcopy(parts)
    written = put(written, tokens(form.text or "/parts"), body)
    return [written] if form.wrap else written


def _strict_json(raw: bytes) -> Found:
    try:
        value: JSONValue = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError):
        return MISSING
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _renamed(
    profile: Profile, role: str, route: Route, document: dict[str, JSONValue]
) -> JSONValue:
    """The body's fields under the profile's names (unknown fields left as they are)."""
    moved: list[tuple[str, JSONValue]] = []
    for canonical, source in route.request:
        value = pop(document, tokens(canonical))
        if isinstance(value, Missing):
            continue
        if source.kind == "absent":
            raise NotInLayout(
                f"profile {profile.name!r}: a {role} request has no field for "
                f"{canonical} ({source.value})"
            )
        moved.append((source.pointer, value))
    result: JSONValue = document
    for pointer, value in moved:
        result = put(result, tokens(pointer), value)
    return result


def _text(profile: Profile, role: str, name: str, place: Place, value: Found) -> str:
    """A value that travels as text (path, query, header), or :class:`NotInLayout`."""
    where = f"profile {profile.name!r}: the {role} request's {name} travels in {place.describe()}"
    if not isinstance(value, str):
        shown = "no value (it was left out)" if value is MISSING else f"the JSON {value!r}"
        raise NotInLayout(f"{where}, which cannot carry {shown}")
    if place.where != "header":
        return value
    trimmed = value.strip(" \t\r\n")
    if trimmed != value:
        if trimmed.lower() not in SENTINELS:
            raise NotInLayout(f"{where}, which cannot carry the whitespace around {value!r}")
        value = trimmed
    if not value.isascii() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise NotInLayout(f"{where}, which cannot carry {value!r} (not visible ASCII)")
    return value


def _ask_for(headers: dict[str, str], names: list[str]) -> None:
    """A preflight names the headers the real request will carry."""
    for key, current in list(headers.items()):
        if key.lower() == "access-control-request-headers":
            have = {item.strip().lower() for item in current.split(",")}
            extra = [n.lower() for n in names if n.lower() not in have]
            headers[key] = ", ".join([current, *extra]) if extra else current


# -- answers ----------------------------------------------------------------------------------


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
    created = _created_place(route, response) if role == "create" else ""
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


def _created_place(route: Route, response: ResponseRecord) -> str:
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
        if source.kind == "copy"
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
            value = _strict_json(payload)
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
        value = _strict_json("\n".join(data).encode("utf-8"))
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


def absent_reason(view: View, path: tuple[str, ...]) -> str | None:
    """Why the layout has no field at ``path`` (or above it), or None if it may have one."""
    return _reason(view.profile, view.absent, path)


def frame_absent_reason(view: View, path: tuple[str, ...]) -> str | None:
    """Why a stream frame's Event has no field at ``path`` in the layout, or None."""
    return _reason(view.profile, view.frame_absent, path)


def _reason(profile: str, absent: tuple[tuple[str, str], ...], path: tuple[str, ...]) -> str | None:
    for pattern, why in absent:
        parts = tokens(pattern)
        if len(path) >= len(parts) and covers(parts, path[: len(parts)]):
            return f"profile {profile!r}: the layout has no {pattern} ({why})"
    return None
