"""``session-conformance report merge SHARD.json ... [-o ALL.json] [--strict]``.

Joins the JSON reports of ``check --shard K/N`` jobs into one JSON report
(:mod:`conformance.reporting.merge`), which ``report ALL.json --format F`` renders.
Exit codes: those ``check`` would give the whole run (:func:`conformance.runner.exit_code`,
read from the merged verdicts: 0 every applicable clause passed, 1 a MUST clause failed
(any with ``--strict``), 3 a clause in error and none failed — a missing shard makes its
clauses ``error``); 2 a file missing or not a valid report, a report of no shard, or
reports that are not shards of one run (one line on stderr); 3 also when the merged
report could not be written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conformance.commands.arguments import EXIT_UNDECIDED, EXIT_USAGE, fail
from conformance.records import ClauseResult, RunReport
from conformance.reporting.formats import write_text
from conformance.reporting.merge import MergeError, load_shard, merge
from conformance.reporting.saved import ReportFileError, SavedReport
from conformance.runner import exit_code


def merge_command(paths: list[Path], output: Path | None, *, strict: bool) -> int:
    try:
        merged = merge([load_shard(path) for path in paths])
    except ReportFileError as exc:
        fail(f"invalid report: {exc}")
        return EXIT_USAGE
    except MergeError as exc:
        fail(f"cannot merge: {exc}")
        return EXIT_USAGE
    text = json.dumps(merged.document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            write_text(output, text)
        except OSError as exc:
            fail(f"cannot write the merged report to {output}: {exc.strerror or exc}")
            return EXIT_UNDECIDED
    for note in merged.notes:  # the shards' own notes are in the report
        fail(note)
    totals = merged.report.totals()
    counts = ", ".join(f"{totals[v]} {v.replace('_', ' ')}" for v in totals if v != "total")
    fail(f"{counts} of {totals['total']} clauses")
    return exit_code(_verdicts(merged.report), strict=strict)


def _verdicts(report: SavedReport) -> RunReport:
    """The merged report as the run's records, as far as :func:`exit_code` reads them."""
    return RunReport(
        tool=report.tool,
        version=report.version,
        target=report.target,
        profile=report.profile,
        seed=report.seed,
        started_at=report.started_at,
        duration_ms=report.duration_ms,
        results=tuple(
            ClauseResult(
                clause_id=c.id,
                family=c.family,
                level=c.level,
                statement=c.statement,
                verdict=c.verdict,
                summary=c.summary,
                seed=c.seed,
                duration_ms=c.duration_ms,
            )
            for c in report.clauses
        ),
    )
