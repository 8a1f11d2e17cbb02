"""Checks: one function per clause, grouped in one module per clause family.

Every check has the same signature, ``check(ctx: CheckContext) -> Iterator[Finding]``,
and is registered under its clause id with :func:`check`. Importing this package
imports every family module, which fills :data:`CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from conformance.context import CheckContext
from conformance.records import Finding

CheckFunction = Callable[[CheckContext], Iterator[Finding]]

CHECKS: dict[str, CheckFunction] = {}


def check(clause_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check of ``clause_id``."""

    def register(function: CheckFunction) -> CheckFunction:
        if clause_id in CHECKS:
            raise ValueError(f"two checks for clause {clause_id}")
        CHECKS[clause_id] = function
        return function

    return register


def all_checks() -> dict[str, CheckFunction]:
    """Every registered check by clause id (importing the family modules first)."""
    from conformance.checks import families  # noqa: F401 - imported for registration

    return CHECKS
