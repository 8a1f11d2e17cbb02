"""Profiles: where a target keeps each role of the session protocol, and how it answers.

A *role* is one step of the protocol (create, get, list, delete, status, run,
run_stream). A profile maps each role to a :class:`Route`: a method and a path template,
where the role's values travel (:class:`Place`: the user id, the session id, the
message — in the path, the query, a header or the body), how the contract's body fields
are renamed on the way out, and how the answer reads back in the contract's terms (a
*view*, built from :class:`Source` entries). The profile also names its error
:class:`Envelope`, its readiness model and the optional features its layout can have.

The canonical layout of the contract is itself just the default profile,
:data:`CANONICAL` (the built-in ``canonical`` profile file loads to an equal object). Its
routes have no mappings at all, and the client sends and reads canonical exchanges
byte for byte. Plain data only: loading is :mod:`~conformance.profile.loading`, and
requests and answers go through the layout in :mod:`~conformance.profile.encoding` and
:mod:`~conformance.profile.decoding`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from conformance.profile.ids import ANY_ID, IdFormat
from conformance.profile.units import Conversion
from conformance.records import JSONValue

ROLES = ("create", "get", "list", "delete", "status", "run", "run_stream")
#: The values a request of some role carries, besides its body's other fields.
VALUES = ("user_id", "session_id", "message")
#: Optional features: the first three also need the run to declare them (``--token``,
#: ``--cors-origin``, client ids on by default); ``location`` and ``users`` are the
#: layout's alone (``users``: sessions belong to users; a profile drops it with
#: ``users = false``, not in its ``features`` list).
FEATURES = ("auth", "cors", "client_ids", "location", "users")
READINESS = ("status", "immediate")
ENVELOPES = ("contract", "problem+json", "fastapi")
PLACES = ("path", "query", "header", "body", "none")
#: Where the contract's own requests keep each value: an argument of the call (``arg``,
#: for the path) or a field of the canonical body.
CANONICAL_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "create": (("user_id", "arg"), ("session_id", "/session_id")),
    "list": (("user_id", "arg"),),
    "get": (("user_id", "arg"), ("session_id", "arg")),
    "delete": (("user_id", "arg"), ("session_id", "arg")),
    "status": (("user_id", "arg"), ("session_id", "arg")),
    "run": (("user_id", "/user_id"), ("session_id", "/session_id"), ("message", "/new_message")),
    "run_stream": (
        ("user_id", "/user_id"),
        ("session_id", "/session_id"),
        ("message", "/new_message"),
    ),
}
#: The success status the contract names for each role.
SUCCESS_STATUS = {"create": 201}


@dataclass(frozen=True, slots=True)
class Frames:
    """Which frames of a stream hold Events, and where: only frames whose ``event:`` name
    is ``event`` ("" : every frame), each giving one Event per element of the array at
    ``each`` ("" : the frame's object is one Event; ``*`` in it stands for every key or
    index), read through the profile's shape ``shape``."""

    shape: str
    event: str = ""
    each: str = ""


@dataclass(frozen=True, slots=True)
class MessageForm:
    """How the layout writes the contract's message (``{role, parts: [{text}]}``):
    ``text`` the pointer where the parts' texts go, joined (``""``: the parts as they
    are); ``role`` where the role goes (``""``: nowhere); ``wrap`` whether the message
    travels as a one-element array; ``string`` whether it travels as its text alone (one
    JSON string: the parts' texts joined, the role, always the contract's ``user``, left
    out). A message the form cannot carry (an unknown field, a part that is not plain
    text, a wrong type, another role where no role travels) is not expressible, never
    sent as another."""

    text: str = ""
    role: str = "/role"
    wrap: bool = False
    string: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    """Where one value of a request travels: ``path`` (the ``{user_id}`` or
    ``{session_id}`` placeholder), ``query`` / ``header`` (named), ``body`` (a JSON
    pointer) or ``none`` (not sent)."""

    where: str
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> Place:
        where, _, name = text.partition(":")
        if where not in PLACES or (where in ("path", "none")) == bool(name):
            raise ValueError(
                f"{text!r} is not a place (path, none, query:NAME, header:NAME or body:/POINTER)"
            )
        return cls(where, name)

    def describe(self) -> str:
        return {
            "path": "the path",
            "none": "nowhere",
            "query": f"query parameter {self.name}",
            "header": f"header {self.name}",
            "body": f"body field {self.name}",
        }[self.where]


@dataclass(frozen=True, slots=True)
class Source:
    """How one field of a canonical view is computed from what the target answered.

    ``copy`` the value at ``pointer``; ``const`` the JSON ``value``; ``convert`` the value
    at ``pointer`` through the conversion named ``value`` (``rfc3339``: epoch seconds to
    an RFC 3339 time); ``parts`` the text at ``pointer`` as the contract's ``parts``
    (``[{"text": ...}]``; of a list of content blocks, the text ones); ``shape`` /
    ``each`` the object (each element of the array) at ``pointer`` through the
    profile's shape named ``value``; ``count`` the elements of
    the array at ``pointer`` matching ``where`` (``value``, when given: the JSON count of
    a missing or null array); ``header`` the response header named
    ``value``; ``map`` the value at ``pointer`` through the profile's value map named
    ``value`` (a target's enum value as the contract's; one the map does not name is
    left as it is); ``unit`` the number at ``pointer`` in the layout's unit, converted
    to the contract's (``unit``; in a request's field map: the contract's number
    written at ``pointer`` in the layout's unit); ``absent`` the layout has no such
    field (``value`` says why).
    """

    kind: str
    pointer: str = ""
    value: str = ""
    where: tuple[tuple[str, str], ...] = ()
    #: For ``unit``: between the contract's unit and the layout's.
    unit: Conversion | None = None

    def constant(self) -> JSONValue:
        return json.loads(self.value)  # type: ignore[no-any-return]


FieldMap = tuple[tuple[str, Source], ...]
#: A value map: the target's value -> the contract's (``value_maps``).
ValueMap = tuple[tuple[str, str], ...]


def mapped(values: ValueMap, value: JSONValue) -> JSONValue:
    """``value`` as the contract names it (unchanged if the map does not name it)."""
    if isinstance(value, str):
        for vendor, contract in values:
            if vendor == value:
                return contract
    return value


@dataclass(frozen=True, slots=True)
class Route:
    """One role's request and answer in a profile's layout.

    A route built from a method and a template alone is canonical: values where the
    contract keeps them, bodies as the contract writes them."""

    method: str
    template: str
    #: Value name -> :class:`Place`, for those not where the contract keeps them.
    places: tuple[tuple[str, Place], ...] = ()
    #: Canonical body pointer -> profile body pointer (``copy``, or ``unit``: converted) or
    #: ``absent``.
    request: FieldMap = ()
    #: Profile body pointer -> JSON text, added to every JSON object body.
    constants: tuple[tuple[str, str], ...] = ()
    #: Canonical pointer -> :class:`Source` for a success answer (None: already canonical).
    response: FieldMap | None = None
    #: The profile's shape of each ``data:`` frame of a stream (None: canonical Events).
    frame: str | None = None
    #: Which frames hold Events, and where (None: every frame, through ``frame``).
    frames: Frames | None = None
    #: How the message is written (None: as the contract writes it).
    message_form: MessageForm | None = None
    #: The success status this layout answers where the contract names another (201).
    success_status: int | None = None
    #: Where a create answer names the new session: pointers into the answer's body,
    #: ``location`` (the last path segment of ``Location``) or ``header:NAME``.
    created_id: tuple[str, ...] = ()

    def path(self, *, user_id: str | None = None, session_id: str | None = None) -> str:
        """The path with ``{user_id}`` and ``{session_id}`` filled in, each percent-encoded
        as one opaque segment (so ``[object Object]`` or ``a/b`` stay one segment)."""
        path = self.template
        if "{user_id}" in path:
            if user_id is None:
                raise ValueError(f"{self.template} needs a user id")
            path = path.replace("{user_id}", quote(user_id, safe=""))
        if "{session_id}" in path:
            if session_id is None:
                raise ValueError(f"{self.template} needs a session id")
            path = path.replace("{session_id}", quote(session_id, safe=""))
        return path

    def place(self, role: str, value: str) -> Place:
        """Where ``value`` travels in a request for ``role`` (declared, or the default:
        the contract's own body field, else the path placeholder, else nowhere)."""
        for name, place in self.places:
            if name == value:
                return place
        source = dict(CANONICAL_SOURCES.get(role, ())).get(value)
        if source is None:
            return Place("none")
        if source != "arg":
            return Place("body", source)
        return Place("path") if "{" + value + "}" in self.template else Place("none")

    @property
    def canonical(self) -> bool:
        """Whether requests and answers need no translation at all."""
        return not (
            self.places
            or self.request
            or self.constants
            or self.response is not None
            or self.frame is not None
            or self.frames is not None
            or self.message_form is not None
            or self.success_status is not None
            or self.created_id
        )


@dataclass(frozen=True, slots=True)
class CodeRule:
    """An error code for answers with ``status`` (any if None) whose message matches the
    regular expression ``message`` (searched; any if None)."""

    code: str
    status: int | None = None
    message: str | None = None

    def matches(self, status: int, message: str) -> bool:
        if self.status is not None and self.status != status:
            return False
        return self.message is None or re.search(self.message, message) is not None


@dataclass(frozen=True, slots=True)
class Envelope:
    """How the target's error answers read: the built-in ``kind`` (``contract``,
    ``problem+json`` as RFC 9457 says, ``fastapi``'s ``{"detail": ...}``), the media type
    they must carry, where the code, message and field errors are, and rules that give
    a code where the body names none."""

    kind: str = "contract"
    media_type: str = "application/json"
    code: str | None = "/error"
    message: str = "/message"
    errors: str | None = "/details/errors"
    error_path: str = "/path"
    error_message: str = "/message"
    codes: tuple[CodeRule, ...] = ()
    #: The target's error codes as the contract's (a value map), for a code the body names.
    code_map: ValueMap = ()


#: The rules every non-contract envelope falls back on, after the profile's own: the
#: statuses that name one code only.
STATUS_CODES = (
    CodeRule("UNAUTHORIZED", 401),
    CodeRule("METHOD_NOT_ALLOWED", 405),
    CodeRule("PAYLOAD_TOO_LARGE", 413),
    CodeRule("UNSUPPORTED_MEDIA_TYPE", 415),
    CodeRule("VALIDATION_ERROR", 422),
    CodeRule("INTERNAL_ERROR", 500),
)

BUILTIN_ENVELOPES = {
    "contract": Envelope(),
    "problem+json": Envelope(
        kind="problem+json",
        media_type="application/problem+json",
        code="/code",
        message="/detail",
        errors="/errors",
        error_path="/pointer",
        error_message="/detail",
        codes=STATUS_CODES,
    ),
    "fastapi": Envelope(
        kind="fastapi",
        code=None,
        message="/detail",
        errors="/detail",
        error_path="/loc",
        error_message="/msg",
        codes=(CodeRule("NOT_FOUND", 404, "^Not Found$"), *STATUS_CODES),
    ),
}


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    routes: tuple[tuple[str, Route], ...]
    envelope: Envelope = BUILTIN_ENVELOPES["contract"]
    #: ``status``: poll the status route until Ready; ``immediate``: Ready at create.
    readiness: str = "status"
    features: frozenset[str] = field(default_factory=lambda: frozenset(FEATURES))
    #: Named mappings (profile object -> canonical object), used by ``shape``/``each``.
    shapes: tuple[tuple[str, FieldMap], ...] = ()
    description: str = ""
    #: Where the profile came from (a built-in's name or a file), for messages.
    origin: str = "built-in"
    #: Path template -> methods the target also serves there for purposes of its own.
    other_methods: tuple[tuple[str, frozenset[str]], ...] = ()
    #: The format of the target's session ids (``session_id_format``).
    session_ids: IdFormat = ANY_ID
    #: Named value maps (the target's enum values -> the contract's), used by ``map``.
    value_maps: tuple[tuple[str, ValueMap], ...] = ()
    #: The target's own OpenAPI document (``openapi``): an http(s) URL, a path on the
    #: target (``/openapi.json``) or ``file:PATH`` (made absolute at load); "" for none.
    openapi: str = ""

    @property
    def users(self) -> bool:
        """Whether sessions belong to users (False: ``users = false``, no user id sent)."""
        return "users" in self.features

    def route(self, role: str) -> Route:
        for name, route in self.routes:
            if name == role:
                return route
        raise KeyError(f"profile {self.name!r} has no {role!r} route")

    def has(self, role: str) -> bool:
        return any(name == role for name, _ in self.routes)

    def methods_at(self, template: str) -> frozenset[str]:
        """Every method the profile serves on one path template (for 405 ``Allow``)."""
        methods = {route.method for _, route in self.routes if route.template == template}
        for path, others in self.other_methods:
            if path == template:
                methods |= others
        return frozenset(methods)

    def value_map(self, name: str) -> ValueMap:
        for map_name, values in self.value_maps:
            if map_name == name:
                return values
        raise KeyError(f"profile {self.name!r} has no value map {name!r}")

    def shape(self, name: str) -> FieldMap:
        for shape_name, mapping in self.shapes:
            if shape_name == name:
                return mapping
        raise KeyError(f"profile {self.name!r} has no shape {name!r}")

    @property
    def canonical(self) -> bool:
        """Whether every exchange is sent and read exactly as the contract writes it."""
        return (
            self.envelope.kind == "contract"
            and self.users
            and all(r.canonical for _, r in self.routes)
        )


CANONICAL = Profile(
    name="canonical",
    routes=(
        ("create", Route("POST", "/users/{user_id}/sessions")),
        ("list", Route("GET", "/users/{user_id}/sessions")),
        ("get", Route("GET", "/users/{user_id}/sessions/{session_id}")),
        ("delete", Route("DELETE", "/users/{user_id}/sessions/{session_id}")),
        ("status", Route("GET", "/users/{user_id}/sessions/{session_id}/status")),
        ("run", Route("POST", "/run")),
        ("run_stream", Route("POST", "/run_sse")),
    ),
    description="The contract's own layout (specs/session-contract.openapi.yaml).",
)
