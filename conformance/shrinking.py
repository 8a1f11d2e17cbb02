"""Shrinking a violation of the stateful exploration (:mod:`conformance.stateful`).

Delta debugging over the sequence's *symbolic* actions, each candidate replayed from
scratch on fresh users: remove chunks of actions, then make what is left plainer, while
the same clause still fails. Actions name sessions symbolically (``$SESSION_1``), so a
shorter sequence means the same thing; hypothesis's own shrinker, which sees only the
drawn choices, kept losing track of server-minted ids.
"""

from __future__ import annotations

import time
from dataclasses import replace

from conformance.context import Undecided
from conformance.sequences import Action, Unresolvable, Violated, Violation, World
from conformance.target import TargetError

#: How long shrinking one violation may take; past it, the smallest sequence so far is kept.
SHRINK_SECONDS = 15.0
#: Replays of a violation as found, before it is reported as not deterministic.
CONFIRMATIONS = 3


class Shrinker:
    """Delta debugging over a violation's actions: the smallest list (and then the
    plainest actions) that, replayed from scratch, still violates the same clause."""

    def __init__(self, world: World, violation: Violation) -> None:
        self.world = world
        self.best = violation
        self.deadline = time.monotonic() + SHRINK_SECONDS
        self.replays = 0
        self.cut_short = False

    def replay(self, actions: list[Action]) -> Violation | None:
        if time.monotonic() > self.deadline:
            self.cut_short = True
            return None
        self.replays += 1
        try:
            sequence = self.world.new_sequence()
            for action in actions:
                sequence.perform(action)
        except Violated as violated:
            return violated.violation if violated.violation.clause == self.best.clause else None
        except (Unresolvable, Undecided, TargetError):
            return None
        return None

    def shrink(self) -> tuple[Violation, bool]:
        """The shrunk violation, and whether it failed again when replayed as found (up
        to :data:`CONFIRMATIONS` times: a fault that lives in timing may need a second
        try)."""
        for _ in range(CONFIRMATIONS):
            again = self.replay(list(self.best.actions))
            if again is not None:
                break
        else:
            return self.best, False
        self.best = again
        self._remove_chunks()
        self._simplify()
        return self.best, True

    def _remove_chunks(self) -> None:
        parts = 2
        while len(self.best.actions) > 1 and not self.cut_short:
            actions = list(self.best.actions)
            size = max(1, -(-len(actions) // parts))
            for start in range(0, len(actions), size):
                found = self.replay(actions[:start] + actions[start + size :])
                if found is not None:
                    self.best = found
                    parts = max(parts - 1, 2)
                    break
            else:
                if size == 1:
                    return
                parts = min(parts * 2, len(actions))

    def _simplify(self) -> None:
        for position in range(len(self.best.actions)):
            for candidate in _plainer(self.best.actions[position]):
                actions = list(self.best.actions)
                actions[position] = candidate
                found = self.replay(actions)
                if found is not None:
                    self.best = found
                    break


def _plainer(action: Action) -> list[Action]:
    """Plainer forms of an action: a plain run for a streamed one, no metadata, "hello"."""
    plainer = []
    if action.role == "run_stream":
        plainer.append(replace(action, role="run"))
    if action.metadata:
        plainer.append(replace(action, metadata={}))
    if action.text != "hello":
        plainer.append(replace(action, text="hello"))
    return plainer
