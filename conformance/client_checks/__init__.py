"""Client checks: one function per client clause (``subject: client`` in the registry).

They judge a client's recorded traffic (a trace written by the mock), not a target.
Every check has the signature ``check(ctx: ClientCheckContext) -> Iterator[Finding]``
and is registered under its clause id with :func:`client_check`; importing
:mod:`conformance.client_checks.families` imports every module, which fills
:data:`CLIENT_CHECKS`. Verdicts are the server checks' verdicts: a check raises
:class:`~conformance.context.NotApplicable` when the trace gave the client no chance to
break its clause (with the reason, and how to record a trace that does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from conformance.records import Finding

if TYPE_CHECKING:
    from conformance.client_checks.context import ClientCheckContext

ClientCheckFunction = Callable[["ClientCheckContext"], Iterator[Finding]]

CLIENT_CHECKS: dict[str, ClientCheckFunction] = {}


def client_check(clause_id: str) -> Callable[[ClientCheckFunction], ClientCheckFunction]:
    """Register the decorated function as the check of client clause ``clause_id``."""

    def register(function: ClientCheckFunction) -> ClientCheckFunction:
        if clause_id in CLIENT_CHECKS:
            raise ValueError(f"two client checks for clause {clause_id}")
        CLIENT_CHECKS[clause_id] = function
        return function

    return register


def all_client_checks() -> dict[str, ClientCheckFunction]:
    """Every registered client check by clause id (importing the modules first)."""
    from conformance.client_checks import families  # noqa: F401 - imported for registration

    return CLIENT_CHECKS
