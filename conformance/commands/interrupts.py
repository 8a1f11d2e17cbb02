"""Interrupts around a run: the report is written whatever arrives, and when.

During the run, SIGTERM is turned into :class:`KeyboardInterrupt` like Ctrl-C
(:func:`conformance.smoke.sigterm_as_interrupt`), and the runner turns either into a
report of what was decided. While the reports are written, both signals are held back
(:func:`held_back`), so that a second Ctrl-C or a ``kill`` at that moment cannot leave a
run without its report; the command then exits as interrupted.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def held_back() -> Iterator[list[int]]:
    """Within the block, SIGINT and SIGTERM are recorded in the yielded list instead of
    acting; the previous handlers come back on the way out. Outside the main thread (where
    no handler can be installed), a no-op."""
    arrived: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield arrived
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        arrived.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in HELD}
    try:
        yield arrived
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
