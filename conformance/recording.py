"""The record of a run's exchanges: every one is seen, the latest are kept, memory is bounded.

:meth:`Target.send <conformance.target.Target.send>` records each exchange here. Each
goes, as it is recorded and in that order, to the listeners (the exchange log written by
``check --record-exchanges``, the smoke run's sweeper), which keep what they need of it;
the record itself keeps only the latest: at most :data:`KEPT_EXCHANGES` exchanges and
:data:`KEPT_BYTES` of their bodies and headers, the oldest forgotten first. What a clause
reads back (:meth:`Recording.since` its mark: its evidence, the sessions its traffic made)
is its own recent traffic, far inside both bounds on any run but a giant one, where the
evidence and the clean-up of that clause see its latest exchanges only.

Clauses run at once in *lanes* (:mod:`conformance.runner`): each lane records into a
:meth:`Recording.lane` of the run's record, which numbers and keeps its exchanges like
the run's (the listeners see every lane's) and also keeps the lane's own, so that what a
clause reads back since its mark is its own traffic, never another lane's.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from itertools import islice

from conformance.records import Exchange

#: The most exchanges kept in memory.
KEPT_EXCHANGES = 10_000
#: The most bytes of bodies and headers the kept exchanges may hold.
KEPT_BYTES = 64 * 1024 * 1024
#: What one exchange costs besides its bodies and headers, roughly (objects, URL, view).
OVERHEAD = 1024
#: What one header costs besides its name and value (two strings and a tuple).
HEADER_OVERHEAD = 160

Listener = Callable[[Exchange], None]


class Recording:
    """Numbers and keeps the exchanges of one target; thread-safe."""

    def __init__(
        self,
        *,
        max_kept: int = KEPT_EXCHANGES,
        max_bytes: int = KEPT_BYTES,
        parent: Recording | None = None,
    ) -> None:
        self.max_kept = max_kept
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._kept: deque[tuple[Exchange, int]] = deque()
        self._bytes = 0
        self._next = 0
        self._listeners: list[Listener] = []
        self._parent = parent
        #: How many exchanges were forgotten to stay within the bounds.
        self.dropped = 0

    def lane(self) -> Recording:
        """A record of one lane's exchanges: numbered, kept and heard by the run's record
        too (a lane's lane is another lane of the run: :meth:`adopt` takes its exchanges)."""
        root = self if self._parent is None else self._parent
        return Recording(max_kept=self.max_kept, max_bytes=self.max_bytes, parent=root)

    def adopt(self, exchanges: tuple[Exchange, ...]) -> None:
        """Keep, as this lane's own, exchanges another lane recorded (lanes a check opened
        for itself): in this order, after what this lane kept so far. The run's own
        record kept them already (every lane records into it): it takes nothing twice."""
        if self._parent is None:
            return
        with self._lock:
            for exchange in exchanges:
                self._keep(exchange)

    def add(self, make: Callable[[int], Exchange]) -> Exchange:
        """Record the exchange ``make`` builds for the next index; the listeners see it
        before the next one is recorded."""
        if self._parent is not None:
            exchange = self._parent.add(make)
            with self._lock:
                self._keep(exchange)
            return exchange
        with self._lock:
            exchange = make(self._next)
            self._next += 1
            self._keep(exchange)
            for listener in self._listeners:
                listener(exchange)
        return exchange

    def _keep(self, exchange: Exchange) -> None:
        weight = _weight(exchange)
        self._kept.append((exchange, weight))
        self._bytes += weight
        while len(self._kept) > 1 and (
            len(self._kept) > self.max_kept or self._bytes > self.max_bytes
        ):
            _, forgotten = self._kept.popleft()
            self._bytes -= forgotten
            self.dropped += 1

    def listen(self, listener: Listener) -> None:
        """From now on, call ``listener`` with each exchange as it is recorded (it must
        not raise, and must be quick: it runs while the record is locked)."""
        with self._lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def mark(self) -> int:
        """A position in the record; :meth:`since` returns what was recorded after it."""
        if self._parent is not None:
            return self._parent.mark()
        with self._lock:
            return self._next

    def since(self, mark: int) -> tuple[Exchange, ...]:
        """The exchanges recorded after ``mark`` that are still kept, in order."""
        with self._lock:
            if not self._kept:
                return ()
            if self._parent is None:  # numbered one by one: the mark is a position
                skip = max(0, mark - self._kept[0][0].index)
                return tuple(exchange for exchange, _ in islice(self._kept, skip, None))
            newer = []
            for exchange, _ in reversed(self._kept):
                if exchange.index < mark:
                    break
                newer.append(exchange)
            return tuple(reversed(newer))


def _weight(exchange: Exchange) -> int:
    request, response = exchange.request, exchange.response
    size = OVERHEAD + len(request.body) + _headers_weight(request.headers)
    if response is not None:
        # the view holds a second copy of the body, parsed or as a canonical stream
        size += 2 * len(response.body) + _headers_weight(response.headers)
    return size


def _headers_weight(headers: tuple[tuple[str, str], ...]) -> int:
    return sum(HEADER_OVERHEAD + len(name) + len(value) for name, value in headers)
