"""Invalid request bodies: a valid body broken at exactly one site, as a named mutation.

(A *mutation* changes one request body; a *mutant* is a reference implementation broken
on purpose. This module is about the former.)

:func:`mutation_sites` lists every way a component schema lets a body be broken: a
required field dropped, a property of the wrong type, an unknown field at an object
level, a value out of range, a string breaking its pattern, an array too short, a
constant changed, a non-object root. :func:`invalid_bodies` draws a valid body (from
:mod:`conformance.generation`) broken at one site: a :class:`Mutation` carrying the JSON
pointer of the offending field, so a check can demand a ``details.errors`` entry
naming it.

Precedence: a body whose ``session_id`` is null, empty, whitespace-only or a sentinel is
``400 SESSION_ID_MISSING``, not ``422``; :func:`invalid_bodies` never produces one (and
never breaks the ``not: SentinelSessionId`` rule), so every mutation it draws is a 422.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

from hypothesis import strategies as st

from conformance.generation import (
    Schema,
    component,
    is_missing_id,
    json_values,
    matches,
    resolve,
    type_of,
    types_of,
    valid_bodies,
    values,
)
from conformance.records import JSONValue

#: JSON types and a plain value of each, for wrong-type mutations.
_TYPE_SAMPLES: tuple[tuple[str, JSONValue], ...] = (
    ("string", "sc"),
    ("integer", 7),
    ("number", 1.5),
    ("boolean", True),
    ("null", None),
    ("array", []),
    ("object", {}),
)
#: Characters that break the contract's id patterns wherever they are inserted.
_FOREIGN_CHARS = (" ", "\n", "\t", "/", "!", "#", "?", "%", "é", "\u0000", "~", "+", ":")
#: Unknown property names tried first (the incident's field first).
_UNKNOWN_NAMES = ("tool_metadata", "extra", "sc_unknown", "id", "type")
#: Values tried first for a ``const``/``enum`` string (the case variants matter).
_NEAR_MISSES = ("assistant", "model", "system", "")


@dataclass(frozen=True, slots=True)
class Site:
    """One place and way a component's body can be broken.

    ``pointer`` is a schema-level JSON pointer into the body; ``*`` stands for any index
    of an array (``/new_message/parts/*/text``)."""

    kind: str
    pointer: str


@dataclass(frozen=True, slots=True)
class Mutation:
    """A valid body broken at exactly one place: what was done, and where (``pointer``
    is the RFC 6901 pointer of the offending field, ``""`` for the body root)."""

    kind: str
    pointer: str
    body: JSONValue
    detail: str

    @property
    def field(self) -> str:
        """The pointer's last token: the name a ``details.errors`` entry must end with."""
        if not self.pointer:
            return ""
        return self.pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")

    @property
    def holder(self) -> str | None:
        """For a missing or unknown property, the pointer of the object that lacks or
        holds it (a 422 may point there, its message naming the property); else None."""
        if self.kind not in ("missing", "unknown_field"):
            return None
        return self.pointer.rsplit("/", 1)[0]

    def describe(self) -> str:
        return f"{self.kind} at {self.pointer or '(root)'}: {self.detail}"


# -- invalid bodies -----------------------------------------------------------------------


def edge_mutations(name: str, *, omit: frozenset[str] = frozenset()) -> list[Mutation]:
    """Invalid values just past each edge of a body's top-level fields, tried before
    random ones: an integer's minimum - 1, maximum + 1 and a fractional value between
    them; a string one character longer than its longest."""
    schema = resolve(component(name))
    found: list[Mutation] = []
    for prop, sub in schema.get("properties", {}).items():
        sub = resolve(sub)
        if prop in omit or prop in schema.get("required", ()):
            continue
        pointer = f"/{_escape(prop)}"
        if "integer" in types_of(sub):
            low, high = sub.get("minimum"), sub.get("maximum")
            if low is not None:
                below = f"{pointer} is {low - 1}, below the minimum {low}"
                found.append(Mutation("below_minimum", pointer, {prop: low - 1}, below))
                half = f"{pointer} is {low + 0.5} (number), not integer"
                found.append(Mutation("wrong_type", pointer, {prop: low + 0.5}, half))
            if high is not None:
                above = f"{pointer} is {high + 1}, above the maximum {high}"
                found.append(Mutation("above_maximum", pointer, {prop: high + 1}, above))
        if "string" in types_of(sub) and "maxLength" in sub:
            long = "a" * (int(sub["maxLength"]) + 1)
            over = f"{pointer} is longer than {sub['maxLength']}"
            found.append(Mutation("too_long", pointer, {prop: long}, over))
    return found


def mutation_sites(name: str, *, omit: frozenset[str] = frozenset()) -> tuple[Site, ...]:
    """Every site at which a component's body can be broken into a 422 (none inside
    the top-level fields named in ``omit``)."""
    schema = resolve(component(name))
    sites = [Site("non_object_root", "")] if "object" in types_of(schema) else []
    sites.extend(_sites(schema, ""))
    return tuple(s for s in sites if not set(s.pointer.split("/")[1:2]) & omit)


def _sites(schema: Schema, pointer: str) -> list[Site]:
    schema = resolve(schema)
    found: list[Site] = []
    kinds = types_of(schema)
    if kinds:
        found.append(Site("wrong_type", pointer))
    for keyword, kind in _VALUE_KINDS:
        if keyword in schema:
            found.append(Site(kind, pointer))
    if "object" in kinds and schema.get("properties"):
        if schema.get("additionalProperties", True) is False:
            found.append(Site("unknown_field", pointer))
        for prop in schema.get("required", ()):
            found.append(Site("missing", f"{pointer}/{prop}"))
        for prop, sub in schema["properties"].items():
            found.extend(_sites(sub, f"{pointer}/{prop}"))
    if "array" in kinds and "items" in schema:
        found.extend(_sites(schema["items"], f"{pointer}/*"))
    return [site for site in found if site.pointer or site.kind != "wrong_type"]


_VALUE_KINDS = (
    ("const", "not_const"),
    ("enum", "not_enum"),
    ("minimum", "below_minimum"),
    ("maximum", "above_maximum"),
    ("pattern", "pattern_mismatch"),
    ("minLength", "too_short"),
    ("maxLength", "too_long"),
    ("minItems", "too_few_items"),
    ("maxItems", "too_many_items"),
)


def invalid_bodies(
    name: str,
    site: Site | None = None,
    *,
    overrides: Mapping[str, JSONValue] | None = None,
    omit: frozenset[str] = frozenset(),
) -> st.SearchStrategy[Mutation]:
    """A valid body of component ``name`` broken at one site (any site when ``None``),
    the optional fields in ``omit`` left out of the body.

    Never a body whose ``session_id`` is missing in the contract's sense (null, empty,
    whitespace, a sentinel): that is a 400, not a 422."""
    sites = mutation_sites(name, omit=omit) if site is None else (site,)
    return (
        st.sampled_from(sites)
        .flatmap(lambda chosen: _mutate(name, chosen, overrides or {}, omit))
        .filter(
            lambda m: (
                not (isinstance(m.body, dict) and is_missing_id(m.body.get("session_id", "x")))
            )
        )
    )


@st.composite
def _mutate(
    draw: st.DrawFn,
    name: str,
    site: Site,
    overrides: Mapping[str, JSONValue],
    omit: frozenset[str],
) -> Mutation:
    body: JSONValue = copy.deepcopy(draw(valid_bodies(name, overrides=overrides, omit=omit)))
    if site.kind == "non_object_root":
        value = draw(
            st.sampled_from([[], [body], "sc", 1, 1.5, True, None])
            | json_values().filter(lambda v: not isinstance(v, dict))
        )
        return Mutation(site.kind, "", value, f"the body is {_show(value)}, not an object")
    tokens = site.pointer.split("/")[1:]
    inside = tokens if site.kind == "unknown_field" else tokens[:-1]
    # walk down to the object or array that holds the site, choosing an index for ``*``
    schema, node, at = resolve(component(name)), body, ""
    for token in inside:
        key = _key(draw, node, token)
        node, at = _child(node, key), f"{at}/{_escape(str(key))}"
        schema = resolve(schema["items"] if token == "*" else schema["properties"][token])
    if site.kind == "unknown_field":
        known = set(schema.get("properties", {}))
        name_drawn = draw(st.sampled_from(_UNKNOWN_NAMES) | _NAMES)
        unknown = name_drawn if name_drawn not in known else f"sc_{name_drawn}"
        _put(node, unknown, draw(json_values(max_leaves=3)))
        return Mutation(site.kind, f"{at}/{_escape(unknown)}", body, f"unknown field {unknown!r}")
    last = tokens[-1]
    key = _key(draw, node, last)
    pointer = f"{at}/{_escape(str(key))}"
    if site.kind == "missing":
        assert isinstance(node, dict)
        node.pop(last, None)
        return Mutation(site.kind, pointer, body, f"required field {last!r} dropped")
    sub = resolve(schema["items"] if last == "*" else schema["properties"][last])
    current = _child(node, key) if _has(node, key) else None
    value, detail = draw(_bad_value(site.kind, sub, current, key=last, label=pointer))
    _put(node, key, value)
    return Mutation(site.kind, pointer, body, detail)


_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)


def _key(draw: st.DrawFn, node: JSONValue, token: str) -> str | int:
    """The concrete key for a schema-level token: an index drawn for ``*``."""
    if token != "*":
        return token
    if not isinstance(node, list) or not node:
        raise ValueError("a valid body has no item at this array site")
    return draw(st.integers(0, len(node) - 1))


def _has(node: JSONValue, key: str | int) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _child(node: JSONValue, key: str | int) -> JSONValue:
    if isinstance(node, dict) and isinstance(key, str):
        return node[key]
    if isinstance(node, list) and isinstance(key, int):
        return node[key]
    raise ValueError(f"cannot step into {_show(node)} with {key!r}")


def _put(node: JSONValue, key: str | int, value: JSONValue) -> None:
    if isinstance(node, dict) and isinstance(key, str):
        node[key] = value
        return
    if isinstance(node, list) and isinstance(key, int):
        node[key] = value
        return
    raise ValueError(f"cannot set {key!r} in {_show(node)}")


def _bad_value(
    kind: str, schema: Schema, current: JSONValue, *, key: str, label: str
) -> st.SearchStrategy[tuple[JSONValue, str]]:
    """An invalid value for the field ``key`` (at ``label``), with a sentence saying why
    it is invalid."""
    if kind == "wrong_type":
        allowed = set(types_of(schema)) | ({"integer"} if "number" in types_of(schema) else set())

        def wrong(value: JSONValue) -> bool:
            got = type_of(value)
            if got == "number" and isinstance(value, float) and value.is_integer():
                got = "integer"  # 60.0 is an integer to JSON Schema
            return got not in allowed and not (key == "session_id" and value is None)

        samples = [v for _, v in _TYPE_SAMPLES if wrong(v)]
        return (st.sampled_from(samples) | json_values(max_leaves=3).filter(wrong)).map(
            lambda v: (v, f"{label} is {_show(v)} ({type_of(v)}), not {'/'.join(types_of(schema))}")
        )
    if kind in ("not_const", "not_enum"):
        wanted = [schema["const"]] if kind == "not_const" else list(schema["enum"])
        text = [s for s in wanted if isinstance(s, str)]
        near = [*_NEAR_MISSES, *(s.upper() for s in text), *(s.capitalize() for s in text)]
        return (
            (st.sampled_from(near) | st.text(max_size=10))
            .filter(lambda v: v not in wanted)
            .map(lambda v: (v, f"{label} is {_show(v)}, not {' or '.join(map(_show, wanted))}"))
        )
    if kind == "below_minimum":
        low = schema["minimum"]
        return st.one_of(st.just(low - 1), st.integers(max_value=low - 1)).map(
            lambda v: (v, f"{label} is {v}, below the minimum {low}")
        )
    if kind == "above_maximum":
        high = schema["maximum"]
        return st.one_of(st.just(high + 1), st.integers(min_value=high + 1)).map(
            lambda v: (v, f"{label} is {v}, above the maximum {high}")
        )
    if kind == "pattern_mismatch":
        return pattern_breakers(schema, current).map(
            lambda v: (v, f"{label} is {_show(v)}, which does not match {schema['pattern']}")
        )
    if kind == "too_short":
        return st.text(max_size=max(0, schema["minLength"] - 1)).map(
            lambda v: (v, f"{label} is shorter than {schema['minLength']}")
        )
    if kind == "too_long":
        return st.text(min_size=schema["maxLength"] + 1, max_size=schema["maxLength"] + 8).map(
            lambda v: (v, f"{label} is longer than {schema['maxLength']}")
        )
    if kind == "too_few_items":
        return st.just(([], f"{label} is an empty array (at least {schema['minItems']} item(s))"))
    if kind == "too_many_items":
        item = current[0] if isinstance(current, list) and current else None
        count = schema["maxItems"] + 1
        return st.just(
            ([item] * count, f"{label} has {count} items (at most {schema['maxItems']})")
        )
    raise ValueError(f"unknown mutation kind {kind!r}")


def pattern_breakers(schema: Schema, current: JSONValue = None) -> st.SearchStrategy[str]:
    """Strings that break the schema's pattern: the valid value with a trailing newline or
    space, a foreign character inserted, made too long, or any non-matching text."""
    base = st.just(current) if isinstance(current, str) and current else values(schema).map(str)

    def insert(args: tuple[str, str, int]) -> str:
        text, char, at = args
        at %= len(text) + 1
        return text[:at] + char + text[at:]

    edited = st.one_of(
        base.map(lambda v: f"{v}\n"),
        base.map(lambda v: f"{v} "),
        base.map(lambda v: f" {v}"),
        base.map(lambda v: f"{v}\r\n"),
        base.map(lambda v: f"-{v}"),
        base.map(lambda v: f"{v}{'a' * 200}"),
        st.tuples(base, st.sampled_from(_FOREIGN_CHARS), st.integers(0, 200)).map(insert),
        st.text(max_size=20),
    )
    return edited.filter(lambda v: not matches(schema, v))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _show(value: JSONValue) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
