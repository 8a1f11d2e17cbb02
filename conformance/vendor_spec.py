"""A vendor's own OpenAPI document, compared with a profile before any request is sent.

:func:`compare` reads the target's OpenAPI document (ADK serves one at
``/openapi.json``) and says, for each role of the profile, whether the document has it
where the profile says: an operation with the role's method on a matching path (a
profile's literal segment, such as ADK's app name, matches a path parameter), the query
and header parameters the profile puts ids in, the body fields the profile writes
(places, renamed fields, constants), the success status the profile expects. Those are
:data:`INCOMPATIBLE`: the profile names something the document does not have, and the
run would test the wrong thing. It also notes what the document itself says the contract
will miss (:data:`CONTRACT`): request bodies that accept unknown fields, media types and
body sizes it never refuses, a 422 shape that is not the profile's envelope. Those are
predictions; only the run decides.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.pointers import tokens
from conformance.profile import SUCCESS_STATUS, Profile, Route
from conformance.profile.encoding import body_pointers

INCOMPATIBLE = "incompatible"
CONTRACT = "contract"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Remark:
    """One thing the document says about the profile (``incompatible``) or about the
    contract's chances (``contract``)."""

    kind: str
    role: str
    message: str

    def line(self) -> str:
        return f"{self.kind:<12} {self.role:<10} {self.message}"


def compare(profile: Profile, document: Mapping[str, Any]) -> list[Remark]:
    """Every remark the document gives about ``profile``, role by role."""
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return [Remark(INCOMPATIBLE, "-", "the document has no paths object")]
    remarks: list[Remark] = []
    for role, route in profile.routes:
        found = find_operation(paths, route)
        if found is None:
            remarks.append(
                Remark(
                    INCOMPATIBLE,
                    role,
                    f"no {route.method} operation on a path matching {route.template}",
                )
            )
            continue
        path, operation = found
        remarks += [Remark(INCOMPATIBLE, role, m) for m in _profile_problems(
            document, role, route, path, operation, profile
        )]  # fmt: skip
        remarks += [Remark(CONTRACT, role, m) for m in _contract_notes(document, route, operation)]
    if not profile.has("status"):
        remarks.append(
            Remark(CONTRACT, "status", "no status role: the polling clauses do not apply")
        )
    return remarks


def find_operation(paths: Mapping[str, Any], route: Route) -> tuple[str, dict[str, Any]] | None:
    """The document's path and operation for ``route`` (its method on a matching path)."""
    wanted = route.template.strip("/").split("/")
    for path, item in paths.items():
        segments = str(path).strip("/").split("/")
        operation = item.get(route.method.lower()) if isinstance(item, dict) else None
        if not isinstance(operation, dict) or len(segments) != len(wanted):
            continue
        if all(_segment_matches(w, s) for w, s in zip(wanted, segments, strict=True)):
            return str(path), operation
    return None


def _segment_matches(profile_segment: str, document_segment: str) -> bool:
    if document_segment.startswith("{"):
        return True  # a parameter takes a placeholder or a literal (ADK's app name)
    return not profile_segment.startswith("{") and profile_segment == document_segment


def _profile_problems(
    document: Mapping[str, Any],
    role: str,
    route: Route,
    path: str,
    operation: Mapping[str, Any],
    profile: Profile,
) -> Iterator[str]:
    parameters = [resolve(document, p) for p in operation.get("parameters", [])]
    named = {(p.get("in"), str(p.get("name", "")).lower()) for p in parameters}
    for value in ("user_id", "session_id"):
        place = route.place(role, value)
        if place.where in ("query", "header") and (place.where, place.name.lower()) not in named:
            yield f"{path}: no {place.where} parameter {place.name} (the profile's {value})"
    schema = request_schema(document, operation)
    pointers = body_pointers(role, route)
    if pointers and schema is None:
        yield f"{route.method} {path}: no JSON request body, but the profile writes {pointers[0]}"
    for pointer in pointers if schema is not None else ():
        if not _has_field(document, schema, tokens(pointer)):
            yield f"{route.method} {path}: the request body has no field {pointer}"
    expected = route.success_status or SUCCESS_STATUS.get(role, 200)
    statuses = {str(code) for code in operation.get("responses", {})}
    documented = sorted(s for s in statuses if s.startswith("2"))
    if documented and str(expected) not in statuses:
        hint = f" (set success_status = {documented[0]})" if len(documented) == 1 else ""
        yield (
            f"{route.method} {path} documents {', '.join(documented)}, the profile expects "
            f"{expected}{hint}"
        )


def _contract_notes(
    document: Mapping[str, Any], route: Route, operation: Mapping[str, Any]
) -> Iterator[str]:
    schema = request_schema(document, operation)
    if schema is not None and resolve(document, schema).get("additionalProperties") is not False:
        yield "the request body accepts unknown fields (VAL-001/VAL-003 ask for a 422)"
    responses = {str(code) for code in operation.get("responses", {})}
    if schema is not None and not responses & {"413", "4XX", "4xx"}:
        yield "no 413 documented: bodies over 1 MiB may be accepted (ERR-005)"


def request_schema(document: Mapping[str, Any], operation: Mapping[str, Any]) -> Any:
    """The operation's ``application/json`` request body schema (None: it has none)."""
    body = resolve(document, operation.get("requestBody", {}))
    content = body.get("content", {}) if isinstance(body, dict) else {}
    media = content.get("application/json") if isinstance(content, dict) else None
    return media.get("schema") if isinstance(media, dict) else None


def _has_field(document: Mapping[str, Any], schema: Any, parts: tuple[str, ...]) -> bool:
    schema = resolve(document, schema)
    if not parts:
        return True
    if not isinstance(schema, dict):
        return False
    for key in ("anyOf", "oneOf", "allOf"):
        if any(_has_field(document, s, parts) for s in schema.get(key, ())):
            return True
    head, rest = parts[0], parts[1:]
    properties = schema.get("properties", {})
    if isinstance(properties, dict) and head in properties:
        return _has_field(document, properties[head], rest)
    if (head == "*" or head.isdigit()) and "items" in schema:
        return _has_field(document, schema["items"], rest)
    extra = schema.get("additionalProperties")
    return isinstance(extra, dict) and _has_field(document, extra, rest)


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """``node`` with local ``$ref`` followed (a dangling one reads as an empty schema)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        target: Any = document
        for token in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target.get(token) if isinstance(target, dict) else None
        node, seen = target if target is not None else {}, seen + 1
    return node
