"""Bodies from a target's own request schema: valid ones at each boundary it declares, and
ones that break one of its constraints each.

A *base* body is built first (:mod:`conformance.schema_values`): every required field,
each at a plain valid value drawn from the seed (a text, an integer at its minimum, the
first enum member, arrays of one item).
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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from conformance.pointers import MISSING, Missing, get, pop, put, render
from conformance.records import JSONValue
from conformance.schema_values import (
    MAX_DEPTH,
    CannotBuild,
    Parts,
    Schema,
    SchemaValues,
    as_kind,
    is_number,
    kind_of,
)

__all__ = ["CannotBuild", "Parts", "Probe", "SchemaProbes"]

#: The most items an array boundary may have, and enum members tried as boundaries.
MAX_ITEMS, MAX_MEMBERS = 64, 8
#: A field no closed object declares.
UNKNOWN = "sc_unknown_field"


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
        self.values = SchemaValues(document, rng)
        self.build, self.effective = self.values.build, self.values.effective
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
            kind = kind_of(schema)
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
        if kind_of(schema) == "object":
            for name in schema.get("required", ()):
                yield _Change((*parts, str(name)), "missing (required)", None, remove=True), False
            if schema.get("additionalProperties") is False:
                yield (
                    _Change((*parts, UNKNOWN), "an unknown field (the object is closed)", "sc"),
                    False,
                )

    def _edges(self, schema: Schema) -> Iterator[tuple[str, JSONValue]]:
        kind = kind_of(schema)
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
                if is_number(schema.get(key)):
                    yield f"at {key} {schema[key]:g}", as_kind(kind, schema[key])
            if kind == "integer":
                for key, step in (("exclusiveMinimum", 1), ("exclusiveMaximum", -1)):
                    if is_number(schema.get(key)):
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
        kind = kind_of(schema)
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
                if is_number(schema.get(key)):
                    yield f"one past {key} {schema[key]:g}", as_kind(kind, schema[key] + step)
            for key in ("exclusiveMinimum", "exclusiveMaximum"):
                if is_number(schema.get(key)):
                    yield f"at {key} {schema[key]:g}", as_kind(kind, schema[key])
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


def _size(body: JSONValue) -> int:
    return len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
