"""The verifier: judges a trace against the client clauses and emits the runner's events.

:func:`verify` yields the same :class:`~conformance.runner.RunStarted`,
:class:`~conformance.runner.ClauseFinished` and :class:`~conformance.runner.RunFinished`
events as the server runner, so the console and JSON reporters, the exit codes and the
report schema are shared. Verification reads a file and sends nothing, so it is
deterministic: the seed is always 0. Verdicts: no finding ``passed``; findings
``failed``; :class:`~conformance.context.NotApplicable` (the trace gave the client no
chance to break the clause) ``not_applicable``; :class:`~conformance.context.Undecided`
or a fault in a check ``error``. A trace with no exchange decides nothing: every clause
is ``error``, never ``passed``.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator, Sequence

from conformance import __version__
from conformance.client_checks import all_client_checks
from conformance.client_checks.context import ClientCheckContext, ClientSettings
from conformance.client_checks.view import TraceView
from conformance.context import NotApplicable, Undecided
from conformance.events import ClauseFinished, Event, RunFinished, RunStarted
from conformance.kernel import EVIDENCE_SAMPLE, MAX_FINDINGS
from conformance.mock.trace import Trace
from conformance.profile import Profile, ProfileError, builtin_names, load_profile
from conformance.records import ClauseResult, Finding, RunReport, Verdict
from conformance.registry import Clause
from conformance.runner import select

SEED = 0


def verify(
    trace: Trace,
    settings: ClientSettings | None = None,
    *,
    clause_ids: Sequence[str] = (),
    profile: Profile | None = None,
) -> Iterator[Event]:
    """Judge ``trace`` through ``profile`` (None: the built-in profile named in the
    trace's header, if there is one)."""
    settings = settings or ClientSettings()
    clauses = select(clause_ids, subject="client")
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    yield RunStarted(target=f"the client traffic in {trace.path}", seed=SEED, clauses=clauses)
    profile = profile or _builtin(trace.header.layout)
    undecided = None
    if profile is None:
        undecided = (
            f"the trace was recorded with layout {trace.header.layout!r}, which is no "
            f"built-in profile ({', '.join(builtin_names())}): give its profile file "
            "(verify-client --profile FILE)"
        )
    elif not any(item.response is not None for item in trace.exchanges):
        undecided = (
            "the trace holds no answered exchange: the client never reached the mock "
            f"at {trace.header.base_url}"
        )
    results: list[ClauseResult] = []
    for clause in clauses:
        if undecided is not None or profile is None:
            result = _result(clause, Verdict.ERROR, undecided or "no profile", 0.0)
        else:
            result = verify_clause(clause, TraceView(trace, profile), settings)
        results.append(result)
        yield ClauseFinished(result)
    yield RunFinished(
        RunReport(
            tool="session-conformance",
            version=__version__,
            target=trace.path,
            profile=trace.header.layout if profile is None else profile.name,
            seed=SEED,
            started_at=started_at,
            duration_ms=(time.perf_counter() - started) * 1000,
            results=tuple(results),
            settings=(
                *settings.items(),
                ("modes", ",".join(trace.header.modes)),
                ("exchanges", str(len(trace.exchanges))),
            ),
            notes=(),
        )
    )


def verify_clause(clause: Clause, view: TraceView, settings: ClientSettings) -> ClauseResult:
    """Run one client clause's check on a trace and turn what happened into a verdict."""
    absent = [role for role in clause.roles if not view.layout.has(role)]
    if absent:
        reason = f"layout {view.layout.name!r} has no {', '.join(absent)} route"
        return _result(clause, Verdict.NOT_APPLICABLE, reason, 0.0)
    check = all_client_checks().get(clause.id)
    if check is None:
        return _result(clause, Verdict.ERROR, "no check is implemented for this clause", 0.0)
    ctx = ClientCheckContext(clause, view, settings)
    started = time.perf_counter()
    findings: list[Finding] = []
    verdict, summary = Verdict.PASSED, ""
    try:
        findings.extend(check(ctx))
    except NotApplicable as exc:
        verdict, summary = Verdict.NOT_APPLICABLE, str(exc)
    except Undecided as exc:
        verdict, summary = Verdict.ERROR, str(exc)
    except Exception as exc:
        verdict, summary = Verdict.ERROR, f"the check itself failed: {type(exc).__name__}: {exc}"
    duration = (time.perf_counter() - started) * 1000
    if findings and verdict is Verdict.PASSED:
        verdict = Verdict.FAILED
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        summary = findings[0].message + more
    elif verdict is Verdict.PASSED:
        summary = f"{len({id(s) for s in ctx.judged})} exchange(s) judged, no violation"
    # By identity: an exchange read through a profile holds its view (JSON, unhashable).
    evidence = tuple({id(step.exchange): step.exchange for step in ctx.judged}.values())
    return clause.result(
        verdict,
        summary,
        seed=SEED,
        duration_ms=duration,
        findings=tuple(findings[:MAX_FINDINGS]),
        exchanges=evidence[:EVIDENCE_SAMPLE] if verdict is not Verdict.FAILED else (),
    )


def _builtin(name: str) -> Profile | None:
    try:
        return load_profile(name) if name in builtin_names() else None
    except ProfileError:
        return None


def _result(clause: Clause, verdict: Verdict, summary: str, ms: float) -> ClauseResult:
    return clause.result(verdict, summary, seed=SEED, duration_ms=ms)
