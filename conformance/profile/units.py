"""Units: a duration the contract counts in one unit and a layout in another.

The contract names its durations by their unit (``ttl_seconds``, ``eta_ms``: the suffix
of the field's name); a profile names the layout's (``unit = "minutes"``). A
:class:`Conversion` carries both and converts exactly (no rounding): a value the
layout's unit cannot hold whole (90 seconds in minutes) has no conversion, and the
caller says so (:class:`~conformance.profile.gaps.NotInLayout` for a request) rather
than send another value. Anything but a number (a wrong type, a boolean) is left as it
is, so a deliberately wrong value stays wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from conformance.records import JSONValue

#: Each unit in milliseconds.
UNITS = {
    "milliseconds": 1,
    "seconds": 1000,
    "minutes": 60_000,
    "hours": 3_600_000,
    "days": 86_400_000,
}
#: The suffix of a contract field's name -> its unit.
SUFFIXES = {"_ms": "milliseconds", "_seconds": "seconds"}


def contract_unit(pointer: str) -> str | None:
    """The unit of the contract's field at ``pointer`` (by its name), or None."""
    name = pointer.rpartition("/")[2]
    return next((unit for suffix, unit in SUFFIXES.items() if name.endswith(suffix)), None)


def number(value: JSONValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Conversion:
    """Between the contract's unit and the layout's."""

    contract: str
    layout: str

    def to_layout(self, value: JSONValue, *, whole: bool = True) -> JSONValue | None:
        """``value`` (in the contract's unit) in the layout's; None: not a whole number
        there (``whole``; else a fraction is a float). Not a number: as it is."""
        return _scaled(value, Fraction(UNITS[self.contract], UNITS[self.layout]), whole=whole)

    def to_contract(self, value: JSONValue) -> JSONValue:
        """``value`` (in the layout's unit) in the contract's (not a number: as it is)."""
        scaled = _scaled(value, Fraction(UNITS[self.layout], UNITS[self.contract]), whole=False)
        return value if scaled is None else scaled

    def describe(self, value: JSONValue) -> str:
        return f"{value} {self.contract} is not a whole number of {self.layout}"


def _scaled(value: JSONValue, factor: Fraction, *, whole: bool) -> JSONValue | None:
    if not number(value):
        return value
    assert isinstance(value, int | float)
    try:
        exact = Fraction(value) * factor
    except (OverflowError, ValueError):  # inf, nan: nothing to convert
        return None if whole else value
    if exact.denominator == 1:
        return int(exact)
    return None if whole else float(exact)
