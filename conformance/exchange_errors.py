"""What can go wrong with one exchange: the target gave no usable HTTP answer.

Raised by :meth:`conformance.target.Target.send`; a harness-side "could not decide" for
the clause that sent it (``error``), never a failure of the target.
"""

from __future__ import annotations


class TargetError(Exception):
    """The target gave no usable HTTP answer (refused, reset, timed out, not HTTP)."""


class Unreachable(TargetError):
    """No connection could be made (refused, unknown host, connect timeout)."""


class ExchangeTooLong(TargetError):
    """No complete answer within the exchange's deadline (e.g. one byte a second)."""


class ResponseTooLarge(TargetError):
    """The answer was longer than the cap; the harness stopped reading it."""


class HeadersTooLarge(TargetError):
    """The answer had more headers, or more bytes of them, than the caps."""


class RunDeadlinePassed(TargetError):
    """The whole run's deadline passed: the request was cut short or never sent."""
