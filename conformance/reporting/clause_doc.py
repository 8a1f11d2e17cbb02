"""Render the clause registry as Markdown (``docs/clauses.md`` is this, generated)."""

from __future__ import annotations

from conformance.registry import Registry

HEADER = """# Clauses of Session Contract v1

<!-- Generated from specs/clauses.yaml by `session-conformance clauses --markdown`.
     Do not edit by hand: tests/test_registry.py fails when this file is stale. -->

Each clause has a stable id that appears in the registry, the check, test ids
(`pytest -k LIFE-001`), reports and here. Levels follow RFC 2119. A clause whose
roles or features the target lacks is reported `not_applicable`, never `passed`.
"""


def clauses_markdown(registry: Registry) -> str:
    lines = [HEADER]
    for family, description in registry.families:
        members = [c for c in registry.clauses if c.family == family]
        if not members:
            continue
        lines.append(f"## {family}\n\n{description}\n")
        lines.append("| id | level | statement | roles | needs |")
        lines.append("|---|---|---|---|---|")
        for clause in members:
            statement = clause.statement.replace("|", "\\|")
            lines.append(
                f"| `{clause.id}` | {clause.level} | {statement} | "
                f"{', '.join(clause.roles) or '—'} | {', '.join(clause.features) or '—'} |"
            )
        lines.append("")
    return "\n".join(lines)
