"""Merge shard reports: the JSON reports of ``check --shard K/N`` jobs joined into one.

The CI system runs the shards (a job matrix); ``session-conformance report merge`` joins
what they wrote, and the result is a JSON report like any other (every renderer reads
it, :mod:`conformance.reporting.saved` validates it).

Rules:

- The reports must be shards of one run: same tool version, target, profile, seed and
  settings (the shard count and the selection included), each shard once, and no
  clause in two reports except the passive ones (:data:`conformance.passive.PASSIVE`),
  which every shard judges on its own traffic. Anything else is a :class:`MergeError`.
- A clause in one report is taken as is. A clause in several (a passive one) gets the
  worst verdict — failed, then error, then passed, then not applicable (only if every
  shard says so) —, the findings of all (at most :data:`conformance.runner.MAX_FINDINGS`),
  the sum of the durations, and a summary saying how the shards judged it. A passive
  clause that some shard's traffic was not judged by is not passed: ``error``.
- A clause of the selection in no report (a shard missing, or interrupted) is ``error``,
  never passed, and the notes name it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.kernel import MAX_FINDINGS, clause_seed
from conformance.passive import PASSIVE
from conformance.records import Verdict
from conformance.registry import registry
from conformance.reporting.saved import SavedReport, parse_report, read_json
from conformance.shard import (
    SELECTION_SETTING,
    SHARD_SETTING,
    Shard,
    ShardError,
    parse_shard,
    selection_of,
)

#: Worst first: the merged verdict of a clause several shards judged.
RANK = (Verdict.FAILED, Verdict.ERROR, Verdict.PASSED, Verdict.NOT_APPLICABLE)
#: The settings key of a merged report naming the shards it joins.
SHARDS_SETTING = "shards"
#: Clause ids named in a note before "..." (the report lists them all).
SHOWN = 10


class MergeError(Exception):
    """Reports that cannot be merged: one readable sentence (exit 2)."""


@dataclass(frozen=True, slots=True)
class ShardReport:
    """One shard's JSON report, validated."""

    path: str
    shard: Shard
    document: Mapping[str, Any]


def load_shard(path: Path) -> ShardReport:
    """Read a shard report, or raise :class:`~conformance.reporting.saved.ReportFileError`
    (not a valid report) or :class:`MergeError` (a report, but not of a shard)."""
    document = read_json(path)
    parse_report(document, source=str(path))
    assert isinstance(document, dict)  # parse_report validated it
    value = document["settings"].get(SHARD_SETTING)
    if value is None or SELECTION_SETTING not in document["settings"]:
        raise MergeError(f"{path} is not a shard report (it was written without check --shard)")
    try:
        shard = parse_shard(value)
    except ShardError as exc:
        raise MergeError(f"{path}: its shard setting is not K/N ({exc})") from None
    return ShardReport(str(path), shard, document)


@dataclass(frozen=True, slots=True)
class Merged:
    """The merged JSON document, the same read back (validated), and what the merge
    itself has to say (its notes, without the shards' own)."""

    document: Mapping[str, Any]
    report: SavedReport
    notes: tuple[str, ...]
    #: Clauses of the selection that no report holds (``error`` in the merged report).
    missing: tuple[str, ...]


def merge(reports: Sequence[ShardReport]) -> Merged:
    """The shard reports joined into one report."""
    if not reports:
        raise MergeError("report merge: give the shard reports to merge")
    reports = sorted(reports, key=lambda r: r.shard.index)
    _same_run(reports)
    first = reports[0].document
    every = [clause.id for clause in registry().of_subject("server")]
    selection = selection_of(first["settings"][SELECTION_SETTING], every=every)
    count = reports[0].shard.count
    held = _held(reports)
    order = [*selection, *(cid for cid in held if cid not in selection)]
    given = [str(r.shard) for r in reports]
    missing = [cid for cid in selection if cid not in held]
    clauses = [
        _combined(cid, held[cid], count) if cid in held else _absent(cid, first) for cid in order
    ]
    notes = [
        f"merged {len(reports)} shard report(s) ({', '.join(given)}) of a run split in "
        f"{count}: {len(order)} clauses; durations are summed over the shards"
    ]
    if missing:
        absent = [f"{k}/{count}" for k in range(1, count + 1) if f"{k}/{count}" not in given]
        shown = ", ".join(missing[:SHOWN]) + (", ..." if len(missing) > SHOWN else "")
        why = f"shard(s) {', '.join(absent)} not given" if absent else "a shard did not decide them"
        notes.append(
            f"missing: {len(missing)} clause(s) of the selection are in no report ({why}): "
            f"{shown}; they are error, never passed"
        )
    own = tuple(notes)
    notes += _shard_notes(reports)
    settings = {k: v for k, v in first["settings"].items() if k != SHARD_SETTING}
    settings[SHARDS_SETTING] = ", ".join(given)
    merged: dict[str, Any] = {
        **{key: first[key] for key in ("schema_version", "tool", "version", "target")},
        **{key: first[key] for key in ("profile", "seed", "replay")},
        "started_at": min(r.document["started_at"] for r in reports),
        "duration_ms": round(sum(float(r.document["duration_ms"]) for r in reports), 3),
        "settings": settings,
        "notes": notes,
        "totals": _totals(clauses),
        "clauses": clauses,
        "causes": _causes(reports, clauses),
    }
    report = parse_report(merged, source="the merged report")
    return Merged(merged, report, own, tuple(missing))


def _same_run(reports: Sequence[ShardReport]) -> None:
    """Refuse reports of different runs, a shard given twice, overlapping shards."""
    first = reports[0]
    for other in reports[1:]:
        for key, what in (
            ("version", "tool versions"),
            ("target", "targets"),
            ("profile", "profiles"),
            ("seed", "seeds"),
        ):
            if other.document[key] != first.document[key]:
                raise MergeError(
                    f"{first.path} and {other.path} are not shards of one run: their {what} "
                    f"differ ({first.document[key]} and {other.document[key]})"
                )
        if other.shard.count != first.shard.count:
            raise MergeError(
                f"{first.path} and {other.path} are not shards of one run: shard "
                f"{first.shard} and shard {other.shard} split it differently"
            )
        ours, theirs = first.document["settings"], other.document["settings"]
        for key in sorted(set(ours) | set(theirs)):
            if key != SHARD_SETTING and ours.get(key) != theirs.get(key):
                raise MergeError(
                    f"{first.path} and {other.path} are not shards of one run: their "
                    f"setting {key} differs ({ours.get(key)!r} and {theirs.get(key)!r})"
                )
    seen: dict[int, str] = {}
    owner: dict[str, ShardReport] = {}
    for report in reports:
        if report.shard.index in seen:
            raise MergeError(
                f"shard {report.shard} is given twice ({seen[report.shard.index]} and {report.path})"
            )
        seen[report.shard.index] = report.path
        for clause in report.document["clauses"]:
            cid = clause["id"]
            if cid in PASSIVE:
                continue
            if cid in owner:
                raise MergeError(
                    f"{owner[cid].path} (shard {owner[cid].shard}) and {report.path} (shard "
                    f"{report.shard}) both hold {cid}: shards overlap only in the passive clauses"
                )
            owner[cid] = report


def _held(
    reports: Sequence[ShardReport],
) -> dict[str, list[tuple[ShardReport, Mapping[str, Any]]]]:
    """Each clause id the reports hold, with every (report, clause) holding it."""
    held: dict[str, list[tuple[ShardReport, Mapping[str, Any]]]] = {}
    for report in reports:
        for clause in report.document["clauses"]:
            held.setdefault(clause["id"], []).append((report, clause))
    return held


def _combined(
    cid: str, entries: Sequence[tuple[ShardReport, Mapping[str, Any]]], count: int
) -> dict[str, Any]:
    """One clause's merged entry."""
    if len(entries) == 1 and (cid not in PASSIVE or count == 1):
        return dict(entries[0][1])
    verdicts = [Verdict(clause["verdict"]) for _, clause in entries]
    verdict = min(verdicts, key=RANK.index)
    chosen = next(clause for _, clause in entries if Verdict(clause["verdict"]) is verdict)
    tally = "; ".join(
        f"{v.value} in {', '.join(str(r.shard) for r, c in entries if c['verdict'] == v.value)}"
        for v in RANK
        if v in verdicts
    )
    summary = f"{chosen['summary']} [judged in {len(entries)} of {count} shards: {tally}]"
    if verdict is Verdict.PASSED and len(entries) < count:
        verdict = Verdict.ERROR
        summary = (
            f"not decided on the whole run: the traffic of {count - len(entries)} shard(s) "
            f"was not judged by it [judged in {len(entries)} of {count} shards: {tally}]"
        )
    findings = [finding for _, clause in entries for finding in clause["findings"]]
    return {
        **chosen,
        "verdict": verdict.value,
        "summary": summary,
        "duration_ms": round(sum(float(clause["duration_ms"]) for _, clause in entries), 3),
        "findings": findings[:MAX_FINDINGS],
        "evidence": [] if verdict is Verdict.FAILED else chosen["evidence"],
    }


def _absent(cid: str, first: Mapping[str, Any]) -> dict[str, Any]:
    """The entry of a clause of the selection that no report holds: error."""
    clause = {c.id: c for c in registry().clauses}.get(cid)
    if clause is None:
        raise MergeError(f"the shards' selection names {cid}, which is no clause of this version")
    return {
        "id": cid,
        "family": clause.family,
        "level": clause.level,
        "statement": clause.statement,
        "verdict": Verdict.ERROR.value,
        "summary": "not decided: no report given to the merge holds this clause "
        "(its shard is missing, or did not decide it)",
        "seed": clause_seed(first["seed"], cid),
        "duration_ms": 0,
        "replay": f"{first['replay']} --clause {cid}" if first["replay"] else "",
        "findings": [],
        "evidence": [],
    }


def _totals(clauses: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    totals = {verdict.value: 0 for verdict in Verdict}
    for clause in clauses:
        totals[clause["verdict"]] += 1
    totals["total"] = len(clauses)
    return totals


def _shard_notes(reports: Sequence[ShardReport]) -> list[str]:
    """Every shard's notes, once each, labelled with the shards that wrote it."""
    writers: dict[str, list[str]] = {}
    for report in reports:
        for note in report.document["notes"]:
            writers.setdefault(note, []).append(str(report.shard))
    labelled = []
    for note, shards in writers.items():
        label = f"shard {shards[0]}" if len(shards) == 1 else f"shards {', '.join(shards)}"
        labelled.append(note if note.startswith(f"{label}:") else f"{label}: {note}")
    return labelled


def _causes(
    reports: Sequence[ShardReport], clauses: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The shards' causes joined: one per shape (or per clause, for a shapeless one),
    naming the merged failed clauses it breaks; most clauses first, then as met."""
    position = {c["id"]: n for n, c in enumerate(clauses) if c["verdict"] == "failed"}
    joined: dict[str, dict[str, Any]] = {}
    for report in reports:
        failed = [c for c in report.document["clauses"] if c["verdict"] == "failed"]
        causes = report.document.get("causes")
        if causes is None:  # a report written before causes: each failure its own
            causes = [
                {"shape": None, "clauses": [c["id"]], "example": c["summary"]} for c in failed
            ]
        for cause in causes:
            shape = cause["shape"]
            key = json.dumps(shape, sort_keys=True) if shape else f"alone:{cause['clauses'][0]}"
            entry = joined.setdefault(
                key, {"shape": shape, "clauses": [], "example": cause["example"]}
            )
            entry["clauses"] += [c for c in cause["clauses"] if c not in entry["clauses"]]
    result = []
    for entry in joined.values():
        entry["clauses"] = sorted(
            (c for c in entry["clauses"] if c in position), key=position.__getitem__
        )
        if entry["clauses"]:
            result.append(entry)
    result.sort(key=lambda entry: position[entry["clauses"][0]])
    result.sort(key=lambda entry: -len(entry["clauses"]))
    return result
