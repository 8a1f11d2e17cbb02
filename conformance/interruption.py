"""Interruption: Ctrl-C and SIGTERM end a run as interrupted, whenever they land.

The command line installs the handlers (:func:`installed`) as the first thing its entry
point does, before it imports anything heavy. From then on every SIGINT and SIGTERM is
recorded (:func:`interrupted` tells whether one arrived; ``check`` ends 130 when one
did), and what else it does depends on the phase:

- **deferred** (from :func:`installed` until the command starts acting: the imports,
  the argument parsing, building the target): recorded only. The command meets it as
  soon as it acts: the first :func:`checkpoint` raises it.
- **acting** (within :func:`acting`: the run, a server): raised as
  :class:`KeyboardInterrupt` in the main thread, and the phase becomes *held*: what
  comes next (the clean-up, the report) is not cut short by a second signal unless it
  asks to be (a nested :func:`acting`, as the clean-up of the clause under way and the
  smoke sweep do).
- **held** (within :func:`held`, or after :func:`hold` until the enclosing
  :func:`acting` ends: making and writing the report): recorded only.

Python cannot deliver an exception raised where nothing can catch it — inside a gc
callback (hypothesis keeps one), a ``__del__``, a weakref callback — and prints it as
"Exception ignored in ..." instead. Such a :class:`KeyboardInterrupt` is not printed
and not lost: the run is owed it, and the next :func:`checkpoint` (before every
request) raises it again. Whatever else befalls it, the runner stops before the next
clause once a signal arrived (:func:`stop_if_interrupted`), and ``check`` exits 130.

Outside :func:`installed` (the pytest plugin, a test calling the runner) every function
here does nothing, and Ctrl-C is Python's. Only the main thread installs handlers.
Standard library only, and light: the entry point imports it before anything else.
"""

from __future__ import annotations

import enum
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

#: The signals that interrupt a run, in the order their handlers are installed.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Phase(enum.Enum):
    OFF = "off"  # no handlers of ours: Python's defaults
    DEFERRED = "deferred"
    ACTING = "acting"
    HELD = "held"


class _State:
    """What the handlers share with the code they interrupt (one per process)."""

    __slots__ = ("arrived", "owed", "phase")

    def __init__(self) -> None:
        self.phase = Phase.OFF
        self.arrived: list[int] = []
        #: An interrupt that arrived but never reached the run (deferred, or swallowed).
        self.owed = False


_state = _State()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _state.arrived.append(signum)
    if _state.phase is Phase.ACTING:
        _state.phase = Phase.HELD
        raise KeyboardInterrupt
    if _state.phase is Phase.DEFERRED:
        _state.owed = True


def _unraisable(
    previous: Callable[[sys.UnraisableHookArgs], object],
) -> Callable[[sys.UnraisableHookArgs], object]:
    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            _state.owed, _state.phase = True, Phase.ACTING  # delivered at the next checkpoint
            return
        previous(unraisable)

    return hook


@contextmanager
def installed() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM are ours (deferred until :func:`acting`); the
    previous handlers, unraisable hook and record come back on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = (_state.phase, _state.arrived, _state.owed)
    _state.phase, _state.arrived, _state.owed = Phase.DEFERRED, [], False
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable(previous_hook)
    previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNALS}
    try:
        yield
    finally:
        _state.phase = Phase.HELD  # nothing is raised while the handlers are put back
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = previous_hook
        _state.phase, _state.arrived, _state.owed = saved
        # CPython remembers a KeyboardInterrupt that left an ``exec`` of a string (a
        # dataclass's generated methods, say), even one caught later, and then ends the
        # process by SIGINT whatever exit code was asked (exit -2 instead of 130). Each
        # ``exec`` of a string begins by forgetting it.
        exec("")


@contextmanager
def acting() -> Iterator[None]:
    """Within the block, a signal raises :class:`KeyboardInterrupt`; one that arrived
    while deferred is raised by the first :func:`checkpoint`."""
    with _phase(Phase.ACTING):
        yield


@contextmanager
def held() -> Iterator[None]:
    """Within the block, a signal is only recorded (e.g. while the reports are written)."""
    with _phase(Phase.HELD):
        yield


def hold() -> None:
    """From now until the enclosing :func:`acting` ends, a signal is only recorded (the
    run is over; nothing may cut its report short)."""
    if _state.phase is not Phase.OFF:
        _state.phase = Phase.HELD


def checkpoint() -> None:
    """Raise the interrupt the run is owed (one that arrived while deferred, or one
    Python swallowed), if any; in the main thread, while acting."""
    if (
        _state.owed
        and _state.phase is Phase.ACTING
        and threading.current_thread() is threading.main_thread()
    ):
        _state.owed, _state.phase = False, Phase.HELD
        raise KeyboardInterrupt


def stop_if_interrupted() -> None:
    """Raise :class:`KeyboardInterrupt` if any signal arrived; in the main thread, while
    acting. For a loop that must not go on after one (the runner, between clauses):
    whether its interrupt was delivered and lost (some C code clears whatever exception
    a callback raised, without a word), owed, or never raised."""
    if (
        _state.arrived
        and _state.phase is not Phase.OFF
        and threading.current_thread() is threading.main_thread()
    ):
        _state.owed, _state.phase = False, Phase.HELD
        raise KeyboardInterrupt


def interrupted() -> bool:
    """Whether a SIGINT or SIGTERM arrived since :func:`installed`."""
    return bool(_state.arrived)


def arrived() -> tuple[int, ...]:
    """The signals that arrived since :func:`installed`, in order."""
    return tuple(_state.arrived)


@contextmanager
def _phase(phase: Phase) -> Iterator[None]:
    previous = _state.phase
    if previous is Phase.OFF or threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; a lane's phases are the runner's
        return
    _state.phase = phase
    try:
        yield
    finally:
        _state.phase = previous
