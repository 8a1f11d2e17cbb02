"""The run's deadline, as a value passed down to whatever sends requests.

``check --deadline S`` bounds a whole run: past it no request is sent and none runs on.
A :class:`Deadline` is made once by the runner and handed to each lane's target
(:meth:`conformance.target.Target.lane`); the clean-up of what a clause created may run
a little past it (:meth:`Deadline.extended`). Immutable: a lane that needs overtime
gets a new value, and no other lane sees it.

An interrupted run stops its lanes the same way: the runner sets the run's :class:`Stop`,
and no lane sends another request for its check (:meth:`Deadline.stopped`); the clean-up
of the clause under way still may (its overtime), unless a second signal aborted it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


class Stop:
    """What the runner tells its lanes: interrupted (no more checking), aborted (no more
    clean-up either)."""

    def __init__(self) -> None:
        self.interrupted = threading.Event()
        self.aborted = threading.Event()


@dataclass(frozen=True, slots=True)
class Deadline:
    """A ``time.monotonic`` reading past which nothing is sent (None: no deadline)."""

    at: float | None = None
    stop: Stop | None = None
    #: Overtime for a clean-up: an interrupt does not stop it, an abort does.
    grace: bool = False

    @classmethod
    def after(cls, seconds: float | None, stop: Stop | None = None) -> Deadline:
        """The deadline ``seconds`` from now (None: none), stopped by ``stop`` too."""
        return cls(None if seconds is None else time.monotonic() + seconds, stop)

    def stopped(self) -> bool:
        """Whether the run told its lanes to stop sending (interrupted or aborted)."""
        stop = self.stop
        if stop is None:
            return False
        return stop.aborted.is_set() or (stop.interrupted.is_set() and not self.grace)

    def left(self) -> float | None:
        """Seconds until the deadline (0 once past; None: no deadline)."""
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def extended(self, seconds: float) -> Deadline:
        """The same deadline, ``seconds`` later (for the clean-up's overtime)."""
        at = None if self.at is None else self.at + seconds
        return Deadline(at, self.stop, grace=True)


#: How long past the run's deadline the clean-up of what a clause created may still take.
CLEANUP_OVERTIME = 5.0

#: No deadline at all.
NO_DEADLINE = Deadline()
