"""Request bodies derived from the contract: the values and bodies it calls valid.

Everything here is read from the OpenAPI document's component schemas (``CreateSession``,
``RunRequest``, ``UserId``, ...), so the generators follow the contract when it changes.
:func:`valid_bodies` draws bodies that match a component schema, with any subset of the
optional fields (or exactly the subset asked for, see :func:`optional_subsets`) and
fixed values where the caller needs them (a run body's real user and session);
:func:`values` draws values for any of the request schemas' keywords. Invalid bodies,
each one valid body broken in one named way, are :mod:`conformance.mutations`'s.

Sentinel session ids (``info.x-sentinel-session-ids``) are never valid: a body that
carries one is a ``400 SESSION_ID_MISSING``, see :func:`is_missing_id`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from conformance.contract import openapi
from conformance.records import JSONValue

Schema = Mapping[str, Any]


# -- the contract -------------------------------------------------------------------------


@functools.cache
def sentinels() -> frozenset[str]:
    """The sentinel session ids, lower-case, from ``info.x-sentinel-session-ids``."""
    listed = openapi().get("info", {}).get("x-sentinel-session-ids", [])
    return frozenset(str(value).strip().lower() for value in listed) | {""}


def is_missing_id(value: JSONValue) -> bool:
    """True for what the contract calls a missing session id: null, empty,
    whitespace-only, or a sentinel in any case and padding (``400 SESSION_ID_MISSING``)."""
    return value is None or (isinstance(value, str) and value.strip().lower() in sentinels())


def component(name: str) -> Schema:
    """A component schema of the OpenAPI document, by name."""
    schemas: Mapping[str, Schema] = openapi().get("components", {}).get("schemas", {})
    if name not in schemas:
        raise KeyError(f"the OpenAPI document has no component schema {name!r}")
    return schemas[name]


def resolve(schema: Schema) -> Schema:
    """The schema with a local ``$ref`` followed (sibling keywords kept)."""
    while "$ref" in schema:
        ref = str(schema["$ref"])
        if not ref.startswith("#/components/schemas/"):
            raise ValueError(f"cannot follow $ref {ref!r}")
        target = component(ref.rsplit("/", 1)[-1])
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def types_of(schema: Schema) -> tuple[str, ...]:
    """The JSON types a schema allows (from ``type``, or its ``const``)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return (declared,)
    if isinstance(declared, list):
        return tuple(str(t) for t in declared)
    if "const" in schema:
        return (type_of(schema["const"]),)
    return ()


def type_of(value: JSONValue) -> str:
    """The JSON type of a value, as JSON Schema names it (``60`` is an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def matches(schema: Schema, value: str) -> bool:
    """Whether ``value`` matches the schema's pattern (true when it has none)."""
    pattern = schema.get("pattern")
    return pattern is None or re.search(str(pattern), value) is not None


def _violates_not(schema: Schema, value: JSONValue) -> bool:
    """True when ``value`` matches the schema's ``not`` subschema (strings only)."""
    negated = schema.get("not")
    if negated is None:
        return False
    inner = resolve(negated)
    return isinstance(value, str) and matches(inner, value)


# -- boundaries ---------------------------------------------------------------------------


def boundaries(schema: Schema) -> list[JSONValue]:
    """Valid values at the edges of ``schema``, tried before random ones: an integer's
    minimum and maximum, a string's longest value (when the schema bounds its length)."""
    schema = resolve(schema)
    kinds = types_of(schema)
    edges: list[JSONValue] = []
    if "integer" in kinds:
        edges += [schema[key] for key in ("minimum", "maximum") if key in schema]
    if "string" in kinds and "maxLength" in schema:
        longest = (fill * int(schema["maxLength"]) for fill in "a0A")
        edges += [v for v in longest if matches(schema, v) and not _violates_not(schema, v)][:1]
    return edges


def boundary_bodies(name: str, *, omit: frozenset[str] = frozenset()) -> list[dict[str, JSONValue]]:
    """Bodies of component ``name`` each holding one optional field at one of its edges
    (:func:`boundaries`), the other optional fields left out."""
    schema = resolve(component(name))
    required = set(schema.get("required", ()))
    if required:
        raise ValueError(f"{name} has required fields; give them with the caller's values")
    return [
        {prop: edge}
        for prop, sub in schema.get("properties", {}).items()
        if prop not in omit
        for edge in boundaries(sub)
    ]


# -- valid values -------------------------------------------------------------------------


@functools.cache  # built once: a strategy drawn inside a draw is not rebuilt per example
def json_values(max_leaves: int = 8) -> st.SearchStrategy[JSONValue]:
    """Any JSON value (finite numbers, any Unicode text)."""
    leaves: st.SearchStrategy[JSONValue] = (
        st.none()
        | st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False, width=64)
        | st.text(max_size=20)
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


@functools.cache
def json_objects() -> st.SearchStrategy[dict[str, JSONValue]]:
    return st.dictionaries(st.text(max_size=12), json_values(), max_size=5)


#: Every user id the harness makes up starts with this: a check acts only as users of
#: its own, never as one who may be real (on staging, say).
HARNESS_USERS = "sc-"


def harness_user_ids() -> st.SearchStrategy[JSONValue]:
    """Valid user ids in the harness's namespace (:data:`HARNESS_USERS`)."""
    schema = component("UserId")
    return (
        _values(schema)
        .map(lambda user: f"{HARNESS_USERS}{user}"[:128])
        .filter(lambda user: matches(schema, user))
    )


def values(schema: Schema) -> st.SearchStrategy[JSONValue]:
    """Values that match ``schema`` (the keywords the contract's request schemas use); a
    user id (``$ref`` to ``UserId``) is one of the harness's own."""
    if str(schema.get("$ref", "")).endswith("/UserId"):
        return harness_user_ids()
    schema = resolve(schema)
    strategy = _values(schema)
    if "not" in schema:
        strategy = strategy.filter(lambda value: not _violates_not(schema, value))
    return strategy


def _values(schema: Schema) -> st.SearchStrategy[JSONValue]:
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    options = [_values_of_type(schema, kind) for kind in types_of(schema)]
    if not options:
        return json_values()
    return st.one_of(options)


def _values_of_type(schema: Schema, kind: str) -> st.SearchStrategy[JSONValue]:
    if kind == "string":
        if "pattern" in schema:
            return st.from_regex(str(schema["pattern"]), fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 40))
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(
            schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", low + 3))
        return st.lists(values(schema.get("items", {})), min_size=low, max_size=high)
    if kind == "object":
        return _objects(schema)
    raise ValueError(f"unsupported schema type {kind!r}")


def _objects(
    schema: Schema,
    *,
    present: frozenset[str] | None = None,
    overrides: Mapping[str, JSONValue] | None = None,
    omit: frozenset[str] = frozenset(),
) -> st.SearchStrategy[dict[str, JSONValue]]:
    properties: Mapping[str, Schema] = schema.get("properties", {})
    if not properties and schema.get("additionalProperties", True) is not False:
        return json_objects()
    fixed = dict(overrides or {})
    required = set(schema.get("required", ()))
    free = {name: sub for name, sub in properties.items() if name not in fixed}
    chosen = {
        name: values(sub)
        for name, sub in free.items()
        if name in required or (present is not None and name in present)
    }
    optional = {
        name: values(sub)
        for name, sub in free.items()
        if name not in required and name not in omit and present is None
    }
    return st.fixed_dictionaries(
        {**{k: st.just(v) for k, v in fixed.items()}, **chosen}, optional=optional
    )


def optional_subsets(
    name: str, *, omit: frozenset[str] = frozenset()
) -> tuple[frozenset[str], ...]:
    """Every combination of a component's optional top-level fields (but those in
    ``omit``), smallest first."""
    schema = resolve(component(name))
    required = set(schema.get("required", ()))
    optional = [p for p in schema.get("properties", {}) if p not in required and p not in omit]
    subsets = [
        frozenset(p for i, p in enumerate(optional) if mask >> i & 1)
        for mask in range(2 ** len(optional))
    ]
    return tuple(sorted(subsets, key=lambda s: (len(s), sorted(s))))


def valid_bodies(
    name: str,
    *,
    present: frozenset[str] | None = None,
    overrides: Mapping[str, JSONValue] | None = None,
    omit: frozenset[str] = frozenset(),
) -> st.SearchStrategy[dict[str, JSONValue]]:
    """Bodies valid for component ``name``: every required field, the optional fields in
    ``present`` (any subset of those not in ``omit`` when ``None``), and ``overrides``
    as given."""
    if not overrides:  # the common case, drawn afresh for every mutation: built once
        return _plain_bodies(name, present, omit)
    schema = resolve(component(name))
    return _objects(schema, present=present, overrides=overrides, omit=omit)


@functools.cache
def _plain_bodies(
    name: str, present: frozenset[str] | None, omit: frozenset[str]
) -> st.SearchStrategy[dict[str, JSONValue]]:
    return _objects(resolve(component(name)), present=present, omit=omit)
