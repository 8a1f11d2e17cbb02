"""Encoding: the contract's requests sent in a profile's layout.

Checks write every request in the contract's terms: a role, the ids the path would
carry, a canonical body (valid or deliberately not). :func:`outgoing` puts it in the
profile's layout: each value (user id, session id, message) where the profile keeps it —
path, query, header or body — the other body fields renamed, constants added. Fields the
profile does not know pass through unchanged, so an unknown field stays unknown and a
wrong-typed ``session_id`` lands, still wrong-typed, on the profile's ``sessionId``. What
the layout cannot carry (a null session id in a header, a field the layout has no
place for) raises :class:`~conformance.profile.gaps.NotInLayout`. A raw body (truncated,
not JSON) still carries every value the profile keeps outside the body (a header, the
query), so it differs from a valid request by its body alone. The canonical profile
needs no translation: its requests go through untouched.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass

from conformance.pointers import MISSING, Found, Missing, get, pop, put, tokens
from conformance.profile.gaps import NotInLayout
from conformance.profile.model import (
    CANONICAL_SOURCES,
    MessageForm,
    Place,
    Profile,
    Route,
)
from conformance.records import JSONValue

#: Sentinel ids (matched after trimming, case-insensitively, as the contract says): the
#: one kind of padded id a header may carry trimmed, since trimming cannot change its
#: verdict.
SENTINELS = frozenset({"", "undefined", "null", "none", "nil", "nan", "[object object]"})
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
        document = strict_json(raw)
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


def body_pointers(role: str, route: Route) -> tuple[str, ...]:
    """The body pointers a request for ``role`` writes in the layout: the values kept in
    the body, the renamed fields, the constants."""
    places = [route.place(role, name) for name, _ in CANONICAL_SOURCES.get(role, ())]
    return (
        *(place.name for place in places if place.where == "body"),
        *(source.pointer for _, source in route.request if source.kind in ("copy", "unit")),
        *(pointer for pointer, _ in route.constants),
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


def strict_json(raw: bytes) -> Found:
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
        if source.unit is not None:
            converted = source.unit.to_layout(value)
            if converted is None:
                raise NotInLayout(
                    f"profile {profile.name!r}: a {role} request's {canonical} goes to "
                    f"{source.pointer} in {source.unit.layout}, and "
                    f"{source.unit.describe(value)}"
                )
            value = converted
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
