"""Session id formats: what a target's ids look like, and ids the harness invents in it.

A profile's ``session_id_format`` (``uuid``, or a regular expression) is an
:class:`IdFormat`. Never-created and client-chosen ids follow it, so that a lookup
really happens rather than a shape error (CONTRACT.md, "Precisions").
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass


def _prefixed(rng: random.Random) -> str:
    return f"sc-{rng.getrandbits(64):016x}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hex32(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _hex16(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def _digits(rng: random.Random) -> str:
    return str(rng.randrange(10**17, 10**18))


#: Ids a pattern format may invent, tried in this order: the first the pattern admits.
_INVENTED = (_prefixed, _uuid, _hex32, _hex16, _digits)
#: What a pattern format must admit at least one of (for messages).
INVENTED_FORMS = "sc-<16 hex>, a UUID, 32 hex digits, 16 hex digits or 18 decimal digits"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class IdFormat:
    """The format of the target's session ids: ``any`` (the contract's opaque ids),
    ``uuid`` (RFC 9562 text form) or ``pattern`` (a regular expression, matched in full).
    Ids the harness invents (never-created, client-chosen) follow it, so that a lookup
    really happens (CONTRACT.md, "Precisions")."""

    kind: str = "any"
    pattern: str = ""

    def admits(self, text: str) -> bool:
        if self.kind == "uuid":
            return _UUID.fullmatch(text.lower()) is not None
        if self.kind == "pattern":
            return re.fullmatch(self.pattern, text) is not None
        return True

    def invent(self, rng: random.Random) -> str:
        """A fresh id in this format, drawn from ``rng`` (the default: ``sc-<16 hex>``)."""
        if self.kind == "uuid":
            return _INVENTED[1](rng)
        for make in _INVENTED:
            state = rng.getstate()
            made = make(rng)
            if self.admits(made):
                return made
            rng.setstate(state)
        raise ValueError(f"the pattern {self.pattern!r} admits none of {INVENTED_FORMS}")

    def inventable(self) -> bool:
        """Whether :meth:`invent` can make an id in this format."""
        probe = random.Random(0)
        return any(self.admits(make(probe)) for make in _INVENTED)

    def describe(self) -> str:
        return {"uuid": "a UUID", "pattern": f"matching {self.pattern!r}"}.get(self.kind, "any")


ANY_ID = IdFormat()
