"""Properties: hypothesis-driven checks that shrink a failure to its smallest input.

:func:`for_all` runs ``probe`` on values drawn from ``strategy`` with the clause's seed
(no example database, so the same seed replays the same requests). The first probe that
returns a finding makes hypothesis shrink towards the smallest failing value; the
finding for that value is what the check yields. A probe that raises
:class:`~conformance.context.Undecided` or :class:`~conformance.target.TargetError` ends
the property at once, and the exception is raised again once hypothesis is done. A
value the target's profile cannot express (:class:`~conformance.profile.NotInLayout`)
is skipped, and noted on the context (:meth:`CheckContext.untranslatable`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure, Unsatisfiable

from conformance import hypothesis_guard
from conformance.context import CheckContext, Undecided
from conformance.profile import AbsentField, NotInLayout
from conformance.records import Finding
from conformance.target import TargetError

hypothesis_guard.guard()

T = TypeVar("T")


class _Violation(Exception):
    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def for_all(
    ctx: CheckContext,
    strategy: st.SearchStrategy[T],
    probe: Callable[[T], Finding | None],
    *,
    max_examples: int | None = None,
) -> Iterator[Finding]:
    """Yield the (shrunk) finding of the first value ``probe`` rejects, if any."""

    stopped: list[Exception] = []
    violated: list[Finding] = []

    def guarded(value: T) -> Finding | None:
        # A probe that cannot decide (a precondition it could not set up, no answer from
        # the target) before any violation ends the property at once: shrinking would
        # replay it as a flaky violation. It is raised again below. While shrinking a
        # violation, such a value simply does not count as failing.
        if stopped:
            return None
        try:
            finding = probe(value)
        except (Undecided, TargetError, AbsentField) as exc:
            if not violated:
                stopped.append(exc)
            return None
        except NotInLayout as exc:
            ctx.untranslatable(str(exc))
            reject()
        ctx.judged += 1
        if finding is not None:
            violated.append(finding)
        return finding

    @settings(
        max_examples=max_examples or ctx.settings.max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )
    @seed(ctx.seed)
    @given(strategy)
    def prop(value: T) -> None:
        finding = guarded(value)
        if finding is not None:
            raise _Violation(finding)

    try:
        prop()
    except Unsatisfiable:
        pass  # every value was one the layout cannot express: noted on the context
    except _Violation as violation:
        yield violation.finding
        return
    except FlakyFailure as flaky:
        inner = [e for e in flaky.exceptions if isinstance(e, _Violation)]
        if not inner:
            raise
        first = inner[0].finding
        yield Finding(
            f"{first.message} (did not fail again on replay: the target is not deterministic)",
            first.expected,
            first.exchange,
        )
    if stopped:
        raise stopped[0]
