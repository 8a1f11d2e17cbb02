"""Shards: a deterministic, balanced share of a run's clauses (``check --shard K/N``).

A deep run (``--max-examples 500``) is split over N CI jobs, each running
``check --shard K/N``; ``report merge`` joins their JSON reports into one. The CI system
runs the jobs: this module only says which clauses job K runs.

The rule, for a selection of clauses (the registry's server clauses, or what
``--clause``/``--smoke`` left):

- the clauses decided by one shared exploration (the stateful family, STATE-001..007:
  :data:`GROUPS`) are one *unit* and go to one shard together; every other clause is a
  unit of its own, of weight 1; a group weighs what its work costs, in clauses
  (:data:`STATEFUL_WEIGHT`);
- the clauses judged passively (:data:`conformance.passive.PASSIVE`, judged on every
  exchange of the run) are in *every* shard, each judging that shard's traffic; the
  merge combines their verdicts;
- the units are dealt out heaviest first, each to the shard that is lightest so far (the
  lowest-numbered on a tie), in selection order among equals: the same selection always
  gives the same shards, and their weights differ by at most the heaviest unit's.

Nothing here depends on a seed, a hash or the order of a set: only on the selection.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from conformance.invariants import CLAUSES as STATEFUL
from conformance.passive import PASSIVE
from conformance.records import RunReport

#: What the stateful exploration weighs when shards are dealt, in clauses: sharding is for
#: deep runs, and there it costs as much as most other clauses together. Measured against
#: the reference in-process (seed 11, 2 busy cores): at --max-examples 100 it took 16.3 s
#: of a 42.7 s run, the median other clause 0.4 s; at --max-examples 500, 60 s, against
#: 8.7 s for SCHEMA-001, 2.8 s for VAL-003 and under 2 s for the others measured. From 2
#: shards of every clause on, it has a shard (nearly) to itself, with the passive clauses.
STATEFUL_WEIGHT = 60


@dataclass(frozen=True, slots=True)
class Unit:
    """Clauses that go to one shard together, and what they weigh."""

    clauses: tuple[str, ...]
    weight: int


#: Clauses that one shared piece of work decides (never split over shards), each with
#: its weight.
GROUPS: tuple[tuple[frozenset[str], int], ...] = ((frozenset(STATEFUL), STATEFUL_WEIGHT),)
#: The ``settings`` key of a shard report naming its shard (``"2/4"``).
SHARD_SETTING = "shard"
#: The ``settings`` key of a shard report naming the run's whole selection.
SELECTION_SETTING = "selection"
#: The selection value meaning every server clause of the registry.
EVERY_CLAUSE = "all"

_FORM = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


class ShardError(ValueError):
    """A shard that cannot be: a bad ``K/N``, or a shard with no clause."""


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """``"K/N"`` with 1 <= K <= N, or :class:`ShardError` saying what is wrong."""
    match = _FORM.fullmatch(text)
    if match is None:
        raise ShardError(f"{text!r} is not K/N (shard K of N, e.g. 2/4)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1:
        raise ShardError(f"{text!r}: N must be at least 1")
    if not 1 <= index <= count:
        raise ShardError(f"{text!r}: K must be 1..{count} (shards count from 1)")
    return Shard(index, count)


def units(selection: Sequence[str]) -> tuple[Unit, ...]:
    """The selection's non-passive clauses in units (a group together), in selection
    order (a group where its first member is)."""
    found: list[tuple[list[str], int]] = []
    group_at: dict[frozenset[str], list[str]] = {}
    for clause_id in selection:
        if clause_id in PASSIVE:
            continue
        group = next(((g, w) for g, w in GROUPS if clause_id in g), None)
        if group is None:
            found.append(([clause_id], 1))
        elif group[0] in group_at:
            group_at[group[0]].append(clause_id)
        else:
            group_at[group[0]] = [clause_id]
            found.append((group_at[group[0]], group[1]))
    return tuple(Unit(tuple(clauses), weight) for clauses, weight in found)


def partition(selection: Sequence[str], count: int) -> tuple[tuple[str, ...], ...]:
    """Every shard's clauses (shard 1 first), each in selection order, the passive ones
    of the selection in each."""
    dealt: list[list[str]] = [[] for _ in range(count)]
    load = [0] * count
    ordered = sorted(enumerate(units(selection)), key=lambda item: (-item[1].weight, item[0]))
    for _, unit in ordered:
        lightest = min(range(count), key=lambda k: (load[k], k))
        dealt[lightest].extend(unit.clauses)
        load[lightest] += unit.weight
    position = {clause_id: n for n, clause_id in enumerate(selection)}
    passive = [clause_id for clause_id in selection if clause_id in PASSIVE]
    return tuple(tuple(sorted([*clauses, *passive], key=position.__getitem__)) for clauses in dealt)


@dataclass(frozen=True, slots=True)
class ShardPlan:
    """What one shard runs, and how its report says so."""

    shard: Shard
    #: The whole selection the run was split from, in registry order.
    selection: tuple[str, ...]
    #: This shard's clauses, in selection order.
    clauses: tuple[str, ...]
    #: The selection is every server clause of the registry.
    everything: bool

    def note(self) -> str:
        """``shard K/N: M of T clauses``, with the passive ones named."""
        passive = [c for c in self.selection if c in PASSIVE]
        shared = (
            f" ({', '.join(passive)} in every shard, each judging that shard's traffic)"
            if passive
            else ""
        )
        return f"shard {self.shard}: {len(self.clauses)} of {len(self.selection)} clauses{shared}"

    def settings(self) -> tuple[tuple[str, str], ...]:
        """What ``report merge`` reads back: the shard, and the selection it came from."""
        selection = EVERY_CLAUSE if self.everything else ",".join(self.selection)
        return ((SHARD_SETTING, str(self.shard)), (SELECTION_SETTING, selection))

    def stamp(self, report: RunReport) -> RunReport:
        """``report`` (this shard's run) with the shard in its settings and notes."""
        return dataclasses.replace(
            report,
            settings=(*report.settings, *self.settings()),
            notes=(self.note(), *report.notes),
        )


def plan(selection: Sequence[str], shard: Shard, *, every: Sequence[str]) -> ShardPlan:
    """Shard ``shard`` of ``selection`` (``every``: all the registry's server clauses,
    in order), or :class:`ShardError` when that shard would hold no clause."""
    clauses = partition(selection, shard.count)[shard.index - 1]
    if not clauses:
        raise ShardError(
            f"--shard {shard}: that shard would hold no clause: the selection has "
            f"{len(units(selection))} unit(s) to share (the stateful clauses are one); "
            "use at most that many shards"
        )
    return ShardPlan(shard, tuple(selection), clauses, everything=tuple(selection) == tuple(every))


def selection_of(value: str, *, every: Sequence[str]) -> tuple[str, ...]:
    """A shard report's ``selection`` setting read back into clause ids."""
    return tuple(every) if value == EVERY_CLAUSE else tuple(v for v in value.split(",") if v)
