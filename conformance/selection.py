"""Which clauses a run checks: all of a subject's, or those named."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.registry import Clause, registry


class UnknownClause(ValueError):
    """A clause id asked for is not in the registry."""


def select(clause_ids: Sequence[str] | None, *, subject: str = "server") -> tuple[Clause, ...]:
    """The clauses of ``subject`` (``server`` for ``check``, ``client`` for
    ``verify-client``), or those of them named in ``clause_ids``."""
    clauses = registry().of_subject(subject)
    if not clause_ids:
        return clauses
    known = {clause.id: clause for clause in clauses}
    others = {clause.id: clause.subject for clause in registry().clauses}
    elsewhere = [cid for cid in clause_ids if cid.upper() not in known and cid.upper() in others]
    if elsewhere:
        command = "verify-client TRACE.jsonl" if subject == "server" else "check URL"
        raise UnknownClause(
            f"{', '.join(elsewhere)} is not a {subject} clause; check it with "
            f"`session-conformance {command}`"
        )
    unknown = [cid for cid in clause_ids if cid.upper() not in known]
    if unknown:
        raise UnknownClause(
            f"unknown clause id(s): {', '.join(unknown)} (list them with `session-conformance clauses`)"
        )
    wanted = {cid.upper() for cid in clause_ids}
    return tuple(clause for clause in clauses if clause.id in wanted)
