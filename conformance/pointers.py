"""JSON pointers (RFC 6901), read and written on plain JSON values.

A profile names fields by pointer (``/newMessage/parts/0/text``); ``*`` stands for every
index of an array, so ``/sessions/*/session_id`` names a field of each list entry.
Reading never raises: a step that is not there gives :data:`MISSING` (distinct from a
JSON ``null``). Writing creates the objects on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from conformance.records import JSONValue

#: Any index of an array (in a profile's pointers only, never in RFC 6901 itself).
EACH: Final = "*"
#: A pointer: empty (the whole document) or ``/``-separated tokens, ``~0`` and ``~1`` escaped.
POINTER = re.compile(r"(?:/(?:[^~/]|~[01])*)*")


class Missing:
    """What a read finds where the document has no value (not JSON ``null``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing()
Found = JSONValue | Missing


def tokens(pointer: str) -> tuple[str, ...]:
    """The pointer's reference tokens, unescaped; raises ``ValueError`` if it is none."""
    if not POINTER.fullmatch(pointer):
        raise ValueError(f"{pointer!r} is not a JSON pointer (it must be empty or start with /)")
    if not pointer:
        return ()
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


def render(parts: tuple[str | int, ...] | list[str | int]) -> str:
    """The pointer for ``parts`` (``""`` for the root)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def get(document: JSONValue, parts: tuple[str, ...]) -> Found:
    """The value at ``parts`` (no ``*``), or :data:`MISSING`."""
    value: JSONValue = document
    for part in parts:
        if isinstance(value, dict):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
    return value


def put(document: JSONValue, parts: tuple[str, ...], value: JSONValue) -> JSONValue:
    """``document`` with ``value`` at ``parts``, objects created on the way (in place where
    the document is an object; the root is replaced for an empty pointer)."""
    if not parts:
        return value
    root: JSONValue = document if isinstance(document, dict | list) else {}
    node: JSONValue = root
    for part in parts[:-1]:
        child = get(node, (part,))
        if not isinstance(child, dict | list):
            child = {}
            _set(node, part, child)
        node = child
    _set(node, parts[-1], value)
    return root


def pop(document: JSONValue, parts: tuple[str, ...]) -> Found:
    """Remove and return the value at ``parts`` (:data:`MISSING` if there is none)."""
    if not parts:
        return MISSING
    parent = get(document, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    return MISSING


def expand(document: JSONValue, parts: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Every concrete pointer (as tokens) that ``parts`` names in ``document``: each ``*``
    replaced by each index of the array found there."""
    if EACH not in parts:
        yield parts
        return
    at = parts.index(EACH)
    array = get(document, parts[:at])
    if not isinstance(array, list):
        return
    for index in range(len(array)):
        yield from expand(document, (*parts[:at], str(index), *parts[at + 1 :]))


def covers(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether ``pattern`` (``*`` for any index) names exactly ``parts``."""
    return len(pattern) == len(parts) and all(
        p in (EACH, t) for p, t in zip(pattern, parts, strict=True)
    )


def prefixed(prefix: tuple[str, ...], parts: tuple[str, ...]) -> tuple[str, ...] | None:
    """The rest of ``parts`` below ``prefix`` (``*`` matching any token), or None."""
    if len(parts) < len(prefix) or not covers(prefix, parts[: len(prefix)]):
        return None
    return parts[len(prefix) :]


def _set(node: JSONValue, part: str, value: JSONValue) -> None:
    if isinstance(node, dict):
        node[part] = value
    elif isinstance(node, list) and part.isdigit():
        index = int(part)
        while len(node) <= index:
            node.append(None)
        node[index] = value
