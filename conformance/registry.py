"""The clause registry: ``specs/clauses.yaml`` loaded into :class:`Clause` records.

The registry is data and defines conformance; code only tests it. It is validated
against ``specs/clauses.schema.json`` on load, and ids must be unique.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from conformance.contract import (
    CLAUSES_FILE,
    CLAUSES_SCHEMA_FILE,
    ContractFileError,
    load_document,
    specs_dir,
)
from conformance.records import ClauseResult, Exchange, Finding, Verdict


@dataclass(frozen=True, slots=True)
class Clause:
    id: str
    family: str
    level: str
    statement: str
    roles: tuple[str, ...]
    features: tuple[str, ...] = ()
    #: What the clause is checked against: ``server`` (a target, by ``check``) or
    #: ``client`` (a recorded trace of a client's traffic, by ``verify-client``).
    subject: str = "server"
    #: In the pre-deploy smoke subset (``check --smoke``): quick and non-destructive.
    smoke: bool = False

    def result(
        self,
        verdict: Verdict,
        summary: str,
        *,
        seed: int,
        duration_ms: float = 0.0,
        findings: tuple[Finding, ...] = (),
        exchanges: tuple[Exchange, ...] = (),
    ) -> ClauseResult:
        """This clause's result: the one place a clause's fields are copied into one."""
        return ClauseResult(
            clause_id=self.id,
            family=self.family,
            level=self.level,
            statement=self.statement,
            verdict=verdict,
            summary=summary,
            seed=seed,
            duration_ms=duration_ms,
            findings=findings,
            exchanges=exchanges,
        )


@dataclass(frozen=True, slots=True)
class Registry:
    families: tuple[tuple[str, str], ...]
    clauses: tuple[Clause, ...]

    def get(self, clause_id: str) -> Clause:
        for clause in self.clauses:
            if clause.id == clause_id:
                return clause
        raise KeyError(clause_id)

    def ids(self) -> tuple[str, ...]:
        return tuple(clause.id for clause in self.clauses)

    def of_subject(self, subject: str) -> tuple[Clause, ...]:
        """The clauses checked against ``subject`` (``server`` or ``client``)."""
        return tuple(clause for clause in self.clauses if clause.subject == subject)


def load_registry(path: Path | None = None) -> Registry:
    directory = specs_dir()
    data = load_document(path or directory / CLAUSES_FILE)
    schema = load_document(directory / CLAUSES_SCHEMA_FILE)
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        where = "/".join(str(part) for part in first.absolute_path) or "(top level)"
        raise ContractFileError(f"clause registry is invalid at {where}: {first.message}")
    families = tuple((str(name), str(text)) for name, text in data["families"].items())
    family_names = {name for name, _ in families}
    clauses: list[Clause] = []
    seen: set[str] = set()
    for item in data["clauses"]:
        if item["id"] in seen:
            raise ContractFileError(f"clause registry: id {item['id']} appears twice")
        if item["family"] not in family_names:
            raise ContractFileError(f"clause {item['id']}: unknown family {item['family']!r}")
        seen.add(item["id"])
        clauses.append(
            Clause(
                id=item["id"],
                family=item["family"],
                level=item["level"],
                statement=item["statement"],
                roles=tuple(item["roles"]),
                features=tuple(item.get("features", ())),
                subject=item.get("subject", "server"),
                smoke=bool(item.get("smoke", False)),
            )
        )
    return Registry(families=families, clauses=tuple(clauses))


@functools.cache
def registry() -> Registry:
    return load_registry()
