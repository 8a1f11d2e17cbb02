"""Plain valid values of a target's own request schema, and the schema as they read it.

:class:`SchemaValues` builds, for a schema node of an OpenAPI document, a value the node
calls valid: an object with its required fields, an array of one item (or its least
count), a text drawn from the seed and fitted to its length and pattern (a format such
as ``date-time`` or ``uuid`` gets a value of that format), a number at its least bound
or 0, the first enum member. :meth:`SchemaValues.effective` is the node as the builder
and :mod:`conformance.schema_probes` read it: ``$ref`` followed, ``allOf`` merged and, of
``anyOf``/``oneOf``, the first branch that is not ``null`` alone. The values are only a
start: whatever is sent is judged by the document itself first.
"""

from __future__ import annotations

import copy
import random
import re
import uuid
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from conformance import hypothesis_guard
from conformance.pointers import render
from conformance.records import JSONValue
from conformance.vendor_spec import resolve

hypothesis_guard.guard()

Schema = Mapping[str, Any]
Parts = tuple[str, ...]
#: How deep into nested objects and arrays values are built and fields probed.
MAX_DEPTH = 8

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


class SchemaValues:
    """Plain valid values of the schema nodes of ``document``, drawn from ``rng``."""

    def __init__(self, document: Mapping[str, Any], rng: random.Random) -> None:
        self.document = document
        self.rng = rng

    def build(self, node: Any, at: Parts, depth: int) -> JSONValue:
        schema = self.effective(node)
        if "const" in schema:
            return copy.deepcopy(schema["const"])  # type: ignore[no-any-return]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return copy.deepcopy(schema["enum"][0])  # type: ignore[no-any-return]
        kind = kind_of(schema)
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
                    (b for b in branches if kind_of(self._shallow(b)) != "null"), branches[0]
                )
                node = {**siblings, **self._shallow(chosen)}
                continue
            return node
        return {}

    def _shallow(self, node: Any) -> dict[str, Any]:
        found = resolve(self.document, node)
        return dict(found) if isinstance(found, dict) else {}


def kind_of(schema: Schema) -> str:
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


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(schema: Schema, kind: str) -> JSONValue:
    value: float = 0
    if is_number(schema.get("minimum")) and value < schema["minimum"]:
        value = schema["minimum"]
    if is_number(schema.get("exclusiveMinimum")) and value <= schema["exclusiveMinimum"]:
        value = schema["exclusiveMinimum"] + 1
    if is_number(schema.get("maximum")) and value > schema["maximum"]:
        value = schema["maximum"]
    if is_number(schema.get("exclusiveMaximum")) and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - 1
    return as_kind(kind, value)


def as_kind(kind: str, value: float) -> JSONValue:
    """A bound as a value of ``kind`` (a document may write an integer's bound as 60.0)."""
    return int(value) if kind == "integer" and float(value).is_integer() else value


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
