"""Bodies from a target's own request schema: valid ones at each boundary it declares, and
ones that break one of its constraints each.

A *base* body is built first: every required field, each at a plain valid value drawn from
the seed (a text, an integer at its minimum, the first enum member, arrays of one item).
Then, at every field of the schema (nested objects and the first item of arrays; an
optional field in a body of its own, with its required fields but none of its optional
ones), :func:`probes` changes that one field of the base: to each boundary the
schema declares (the longest and shortest text, the least and greatest number, the
fewest and most items, each enum member) for *valid* bodies; one past each boundary, off
the pattern, out of the enum, of another type, a required field left out, an unknown
field where the object is closed, for *broken* ones. Every body is then judged by
``jsonschema`` against the document itself: a valid one that does not validate, or a
broken one that does, is dropped, so a clause never judges the target on a body the
document does not call what the probe says.

Fields the caller fixes (the ids and constants a profile writes into the body) are never
changed; a body over ``max_bytes`` is never made. Everything is drawn from the ``rng``
given: the same seed gives the same bodies.
"""

from __future__ import annotations

import copy
import json
import random
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from conformance import hypothesis_guard
from conformance.pointers import MISSING, Missing, get, pop, put, render
from conformance.records import JSONValue
from conformance.vendor_spec import resolve

hypothesis_guard.guard()

Schema = Mapping[str, Any]
Parts = tuple[str, ...]
#: How deep into nested objects and arrays fields are probed.
MAX_DEPTH = 8
#: The most items an array boundary may have, and enum members tried as boundaries.
MAX_ITEMS, MAX_MEMBERS = 64, 8
#: A field no closed object declares.
UNKNOWN = "sc_unknown_field"
#: Plain values by ``format``, for the formats whose values plain text would break.
FORMATS: dict[str, str] = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "email": "sc@example.com",
    "uri": "https://example.com/sc",
    "url": "https://example.com/sc",
    "ipv4": "192.0.2.1",
}


class CannotBuild(Exception):
    """No valid base body can be built from the schema (the reason says where)."""


@dataclass(frozen=True, slots=True)
class Probe:
    """One body: the pointer of the field it changed (``""``: none), what it did there,
    and whether the document calls it valid."""

    pointer: str
    what: str
    body: JSONValue
    valid: bool

    def describe(self) -> str:
        return f"{self.pointer} {self.what}" if self.pointer else self.what


@dataclass(frozen=True, slots=True)
class _Change:
    parts: Parts
    what: str
    value: JSONValue | None
    remove: bool = False


class SchemaProbes:
    """Probes of one request schema of ``document``."""

    def __init__(
        self,
        document: Mapping[str, Any],
        schema: Schema,
        *,
        rng: random.Random,
        max_bytes: int,
        fixed: tuple[Parts, ...] = (),
        overlay: tuple[tuple[Parts, JSONValue], ...] = (),
    ) -> None:
        self.document = document
        self.schema = schema
        self.rng = rng
        self.max_bytes = max_bytes
        self.fixed = (*fixed, *(parts for parts, _ in overlay))
        self.overlay = overlay
        root = {**document, "allOf": [schema]}  # local $refs resolve in the document
        self._validator = jsonschema.Draft202012Validator(root)

    def valid(self, body: JSONValue) -> bool:
        try:
            return bool(self._validator.is_valid(body))
        except (jsonschema.exceptions.SchemaError, jsonschema.exceptions.RefResolutionError):
            return False

    # -- the base body ---------------------------------------------------------------------

    def base(self) -> JSONValue:
        """A body with every required field, the overlay written in (raises
        :class:`CannotBuild`; it may still not be valid: :meth:`probes` judges it)."""
        return self.written(self.build(self.schema, (), 0))

    def written(self, body: JSONValue) -> JSONValue:
        """``body`` with the caller's values (the overlay) at their places."""
        for parts, value in self.overlay:
            if isinstance(body, dict):
                body = put(body, parts, copy.deepcopy(value))
        return body

    def build(self, node: Any, at: Parts, depth: int) -> JSONValue:
        schema = self.effective(node)
        if "const" in schema:
            return copy.deepcopy(schema["const"])  # type: ignore[no-any-return]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return copy.deepcopy(schema["enum"][0])  # type: ignore[no-any-return]
        kind = _kind(schema)
        if depth > MAX_DEPTH:
            raise CannotBuild(f"{render(list(at)) or 'the body'} nests too deep")
        if kind == "object":
            required = [str(name) for name in schema.get("required", ())]
            properties = schema.get("properties", {})
            return {
                name: self.build(properties.get(name, {}), (*at, name), depth + 1)
                for name in required
            }
        if kind == "array":
            low, high = int(schema.get("minItems", 0)), schema.get("maxItems")
            count = max(low, 1) if high is None else min(max(low, 1), int(high))
            item = schema.get("items", {})
            return [self.build(item, (*at, str(i)), depth + 1) for i in range(count)]
        if kind == "string":
            return self.text(schema, at)
        if kind in ("integer", "number"):
            return _number(schema, kind)
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return "sc"  # no type declared: any value

    def text(self, schema: Schema, at: Parts) -> str:
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in FORMATS:
            return FORMATS[fmt]
        if fmt == "uuid":
            return str(_uuid(self.rng))
        plain = f"sc-{self.rng.getrandbits(32):08x}"
        size = max(low, min(len(plain), int(high) if high is not None else len(plain)))
        candidates = [(plain + "x" * size)[:size], *(fill * size for fill in "a0A")]
        pattern = schema.get("pattern")
        for candidate in candidates:
            if pattern is None or re.search(str(pattern), candidate):
                return candidate
        return self._from_pattern(str(pattern), low, high, at)

    def _from_pattern(self, pattern: str, low: int, high: Any, at: Parts) -> str:
        top = int(high) if high is not None else max(low, 64)
        try:
            strategy = st.from_regex(pattern).filter(lambda s: low <= len(s) <= top)
            made: str = find(
                strategy,
                lambda _: True,
                settings=settings(
                    database=None,
                    max_examples=50,
                    phases=(Phase.generate,),
                    suppress_health_check=list(HealthCheck),
                ),
                random=random.Random(self.rng.getrandbits(64)),
            )
        except (NoSuchExample, re.error) as exc:
            where = render(list(at)) or "the body"
            raise CannotBuild(f"no text for {where} matches {pattern!r}") from exc
        return made

    def effective(self, node: Any) -> Schema:
        """``node`` with ``$ref`` followed, ``allOf`` merged and, of ``anyOf``/``oneOf``,
        the first branch that is not ``null`` alone (the rest are left to the judge)."""
        for _ in range(MAX_DEPTH):
            node = resolve(self.document, node)
            if not isinstance(node, dict):
                return {}
            siblings = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf", "allOf")}
            if isinstance(node.get("allOf"), list):
                merged: dict[str, Any] = dict(siblings)
                for part in node["allOf"]:
                    part = self.effective(part)
                    merged["properties"] = {
                        **merged.get("properties", {}),
                        **part.get("properties", {}),
                    }
                    merged["required"] = [*merged.get("required", []), *part.get("required", [])]
                    merged.update(
                        {k: v for k, v in part.items() if k not in ("properties", "required")}
                    )
                return merged
            branches = node.get("anyOf") or node.get("oneOf")
            if isinstance(branches, list) and branches:
                chosen = next(
                    (b for b in branches if _kind(self._shallow(b)) != "null"), branches[0]
                )
                node = {**siblings, **self._shallow(chosen)}
                continue
            return node
        return {}

    def _shallow(self, node: Any) -> dict[str, Any]:
        found = resolve(self.document, node)
        return dict(found) if isinstance(found, dict) else {}

    # -- the probes ------------------------------------------------------------------------

    def probes(self) -> list[Probe]:
        """The base body, each boundary (valid) and each broken constraint (invalid), in
        the schema's order; each judged by the document (see the module docstring)."""
        base = self.base()
        if not self.valid(base):
            raise CannotBuild("the body built from its required fields does not validate")
        found: list[Probe] = [Probe("", "with its required fields only", base, True)]
        seen = {json.dumps(base, sort_keys=True)}
        for site_base, parts, node, added in self._sites(base):
            for change, valid in self._changes(site_base, parts, node, added):
                if self._touches_fixed(change.parts):
                    continue
                body = copy.deepcopy(site_base)
                if change.remove:
                    pop(body, change.parts)
                else:
                    body = put(body, change.parts, change.value)
                if _size(body) > self.max_bytes or self.valid(body) != valid:
                    continue
                key = json.dumps(body, sort_keys=True)
                if key not in seen:  # each body once, under the first account of it
                    seen.add(key)
                    found.append(Probe(render(list(change.parts)), change.what, body, valid))
        return found

    def _touches_fixed(self, parts: Parts) -> bool:
        return any(
            parts[: len(fixed)] == fixed or fixed[: len(parts)] == parts for fixed in self.fixed
        )

    def _sites(self, base: JSONValue) -> Iterator[tuple[JSONValue, Parts, Schema, bool]]:
        """Every field to probe: (the body it is probed in, its pointer, its schema,
        whether that body has it only for this probe: an optional field)."""
        stack: list[tuple[JSONValue, Parts, Any, int, bool]] = [(base, (), self.schema, 0, False)]
        while stack:
            body, parts, node, depth, added = stack.pop(0)
            schema = self.effective(node)
            yield body, parts, schema, added
            if depth >= MAX_DEPTH:
                continue
            kind = _kind(schema)
            if kind == "object":
                for name, sub in schema.get("properties", {}).items():
                    child = (*parts, str(name))
                    if get(body, child) is MISSING:
                        if body is not base:
                            continue  # one optional field per body: none inside another
                        try:
                            with_it = put(copy.deepcopy(body), child, self.build(sub, child, depth))
                        except CannotBuild:
                            continue
                        stack.append((with_it, child, sub, depth + 1, True))
                    else:
                        stack.append((body, child, sub, depth + 1, False))
            elif kind == "array" and isinstance(get(body, parts), list) and get(body, parts):
                stack.append((body, (*parts, "0"), schema.get("items", {}), depth + 1, False))

    def _changes(
        self, body: JSONValue, parts: Parts, schema: Schema, added: bool
    ) -> Iterator[tuple[_Change, bool]]:
        for what, value in self._edges(schema):
            yield _Change(parts, what, value), True
        present = get(body, parts)
        if added and not isinstance(present, Missing):
            yield _Change(parts, "present (optional)", present), True
        for what, value in self._breaks(schema):
            yield _Change(parts, what, value), False
        if _kind(schema) == "object":
            for name in schema.get("required", ()):
                yield _Change((*parts, str(name)), "missing (required)", None, remove=True), False
            if schema.get("additionalProperties") is False:
                yield (
                    _Change((*parts, UNKNOWN), "an unknown field (the object is closed)", "sc"),
                    False,
                )

    def _edges(self, schema: Schema) -> Iterator[tuple[str, JSONValue]]:
        kind = _kind(schema)
        if isinstance(schema.get("enum"), list):
            for member in schema["enum"][:MAX_MEMBERS]:
                yield f"= enum member {member!r}", member
            return
        if kind == "string" and "format" not in schema:
            for key in ("minLength", "maxLength"):
                size = schema.get(key)
                if isinstance(size, int) and (key == "maxLength" or size > 0):
                    text = self._text_of(schema, size)
                    if text is not None:
                        yield f"of {size} characters (its {key})", text
        if kind in ("integer", "number"):
            for key in ("minimum", "maximum"):
                if _is_number(schema.get(key)):
                    yield f"at {key} {schema[key]:g}", _as(kind, schema[key])
            if kind == "integer":
                for key, step in (("exclusiveMinimum", 1), ("exclusiveMaximum", -1)):
                    if _is_number(schema.get(key)):
                        yield f"just inside {key} {schema[key]:g}", int(schema[key]) + step
        if kind == "array":
            item = schema.get("items", {})
            for key in ("minItems", "maxItems"):
                count = schema.get(key)
                if isinstance(count, int) and 0 < count <= MAX_ITEMS:
                    items = self._items(item, count)
                    if items is not None:
                        yield f"at {key} {count}", items
        if kind == "boolean":
            yield "= true", True

    def _breaks(self, schema: Schema) -> Iterator[tuple[str, JSONValue]]:
        kind = _kind(schema)
        if isinstance(schema.get("enum"), list) or "const" in schema:
            yield "out of its enum", "sc-not-a-member" if kind == "string" else -987_654_321
        if kind == "string":
            high, low = schema.get("maxLength"), schema.get("minLength")
            if isinstance(high, int) and high + 1 <= self.max_bytes:
                yield f"one over maxLength {high}", "a" * (high + 1)
            if isinstance(low, int) and low > 0:
                yield f"one under minLength {low}", "a" * (low - 1)
            pattern = schema.get("pattern")
            if isinstance(pattern, str):
                for off in ("", " ", "\n", "!", "sc invalid!"):
                    if re.search(pattern, off) is None:
                        yield f"off its pattern {pattern!r}", off
                        break
        if kind in ("integer", "number"):
            for key, step in (("minimum", -1), ("maximum", 1)):
                if _is_number(schema.get(key)):
                    yield f"one past {key} {schema[key]:g}", _as(kind, schema[key] + step)
            for key in ("exclusiveMinimum", "exclusiveMaximum"):
                if _is_number(schema.get(key)):
                    yield f"at {key} {schema[key]:g}", _as(kind, schema[key])
        if kind == "array":
            item = schema.get("items", {})
            low, high = schema.get("minItems"), schema.get("maxItems")
            if isinstance(low, int) and low > 0:
                items = self._items(item, low - 1)
                if items is not None:
                    yield f"one under minItems {low}", items
            if isinstance(high, int) and high + 1 <= MAX_ITEMS:
                items = self._items(item, high + 1)
                if items is not None:
                    yield f"one over maxItems {high}", items
        wrong = _wrong_type(schema)
        if wrong is not None:
            yield f"of type {_type_name(wrong)}, not {kind}", wrong

    def _text_of(self, schema: Schema, size: int) -> str | None:
        if size > self.max_bytes:
            return None
        pattern = schema.get("pattern")
        for fill in "a0Ax":
            text = fill * size
            if pattern is None or re.search(str(pattern), text):
                return text
        return None

    def _items(self, item: Any, count: int) -> list[JSONValue] | None:
        try:
            one = self.build(item, (), 1)
        except CannotBuild:
            return None
        return [copy.deepcopy(one) for _ in range(count)]


def _kind(schema: Schema) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), declared[0] if declared else None)
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return ""


def _types(schema: Schema) -> tuple[str, ...]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return (declared,)
    return tuple(str(t) for t in declared) if isinstance(declared, list) else ()


def _wrong_type(schema: Schema) -> JSONValue | None:
    allowed = _types(schema)
    if not allowed:
        return None
    candidates: tuple[JSONValue, ...] = (12345, "sc-text", [], {})
    for value in candidates:
        name = _type_name(value)
        if name not in allowed and not (name == "integer" and "number" in allowed):
            return value
    return None


def _type_name(value: JSONValue) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(schema: Schema, kind: str) -> JSONValue:
    value: float = 0
    if _is_number(schema.get("minimum")) and value < schema["minimum"]:
        value = schema["minimum"]
    if _is_number(schema.get("exclusiveMinimum")) and value <= schema["exclusiveMinimum"]:
        value = schema["exclusiveMinimum"] + 1
    if _is_number(schema.get("maximum")) and value > schema["maximum"]:
        value = schema["maximum"]
    if _is_number(schema.get("exclusiveMaximum")) and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - 1
    return _as(kind, value)


def _as(kind: str, value: float) -> JSONValue:
    """A bound as a value of ``kind`` (a document may write an integer's bound as 60.0)."""
    return int(value) if kind == "integer" and float(value).is_integer() else value


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _size(body: JSONValue) -> int:
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
