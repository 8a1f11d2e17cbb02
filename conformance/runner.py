"""The runner: executes the clauses against a target and emits events.

The engine emits events (:class:`RunStarted`, :class:`ClauseStarted`,
:class:`ClauseFinished`, :class:`RunFinished`); reporters consume them. The CLI and the pytest plugin are thin
shells over :func:`run`. Verdicts: no finding is ``passed``; findings are ``failed``;
:class:`NotApplicable` is ``not_applicable``; :class:`Undecided`, a
:class:`TargetError` (timeout, reset, oversize, deadline ...) or a fault in a check is
``error`` — never ``passed``.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass

from conformance import __version__, interruption
from conformance.checks import all_checks
from conformance.client import ContractClient
from conformance.context import CheckContext, NotApplicable, Settings, Undecided
from conformance.leftovers import HARNESS_USERS
from conformance.passive import PASSIVE, Watch, roles_of
from conformance.profile import CANONICAL, NotInLayout, Profile
from conformance.records import ClauseResult, Exchange, Finding, RunReport, Verdict
from conformance.registry import Clause, registry
from conformance.target import RunDeadlinePassed, Target, TargetError, Unreachable

#: Findings kept per failed clause; the rest are counted in the summary.
MAX_FINDINGS = 5
#: Exchanges kept as evidence for a clause that did not fail.
EVIDENCE_SAMPLE = 3

FEATURE_REASONS = {
    "auth": "the target declares no bearer token (give --token to check auth)",
    "cors": "the target declares no CORS origin (give --cors-origin to check CORS)",
    "client_ids": "the target does not accept client-chosen session ids",
}


#: What a profile lacks when it does not declare a feature.
PROFILE_FEATURES = {
    "auth": "the layout has no bearer auth",
    "cors": "the layout has no CORS",
    "client_ids": "the layout does not accept client-chosen session ids",
    "location": "create answers name the session in no Location header",
    "users": "the layout has no users (users = false): sessions belong to no one and no user id is sent",
}

INTERRUPTED = "interrupted"
#: How long past the run's deadline the clean-up of what it created may still take.
CLEANUP_OVERTIME = 5.0
#: How the summary of a clause ended by a :class:`TargetError` begins.
NO_ANSWER = "no usable answer from the target"


class UnknownClause(ValueError):
    """A clause id asked for is not in the registry."""


@dataclass(frozen=True, slots=True)
class RunStarted:
    target: str
    seed: int
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class ClauseStarted:
    """A clause's check begins (a clause decided without one, e.g. not applicable at
    once or past the deadline, only finishes)."""

    clause: Clause


@dataclass(frozen=True, slots=True)
class ClauseFinished:
    result: ClauseResult


@dataclass(frozen=True, slots=True)
class RunFinished:
    report: RunReport


Event = RunStarted | ClauseStarted | ClauseFinished | RunFinished


def clause_seed(seed: int, clause_id: str) -> int:
    """The seed of one clause: stable for (run seed, clause id), so a clause replays alone."""
    digest = hashlib.sha256(f"{seed}:{clause_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def select(clause_ids: Sequence[str] | None, *, subject: str = "server") -> tuple[Clause, ...]:
    """The clauses of ``subject`` (``server`` for ``check``, ``client`` for
    ``verify-client``), or those of them named in ``clause_ids``."""
    clauses = registry().of_subject(subject)
    if not clause_ids:
        return clauses
    known = {clause.id: clause for clause in clauses}
    others = {clause.id: clause.subject for clause in registry().clauses}
    elsewhere = [cid for cid in clause_ids if cid.upper() not in known and cid.upper() in others]
    if elsewhere:
        command = "verify-client TRACE.jsonl" if subject == "server" else "check URL"
        raise UnknownClause(
            f"{', '.join(elsewhere)} is not a {subject} clause; check it with "
            f"`session-conformance {command}`"
        )
    unknown = [cid for cid in clause_ids if cid.upper() not in known]
    if unknown:
        raise UnknownClause(
            f"unknown clause id(s): {', '.join(unknown)} (list them with `session-conformance clauses`)"
        )
    wanted = {cid.upper() for cid in clause_ids}
    return tuple(clause for clause in clauses if clause.id in wanted)


def run(
    target: Target,
    settings: Settings,
    *,
    clause_ids: Sequence[str] | None = None,
    profile: Profile = CANONICAL,
    deadline: float | None = None,
) -> Generator[Event, None, None]:
    """Run the clauses, yielding events; the last is always :class:`RunFinished`.

    ``deadline`` (seconds) bounds the whole run: past it no clause starts, the one under
    way is cut short, and each clause left is ``error`` with the reason; deleting what the
    run created may take :data:`CLEANUP_OVERTIME` more. An interrupt (Ctrl-C, or SIGTERM
    as ``check`` maps it), raised here or thrown in by the consumer while it handles an
    event, ends the run early and still yields the report of what was decided.
    """
    clauses = select(clause_ids)
    position = {clause.id: index for index, clause in enumerate(clauses)}
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    stop_at = None if deadline is None else time.monotonic() + deadline
    target.stop_at(stop_at)
    results: list[ClauseResult] = []
    notes: list[str] = []
    late = 0
    try:
        yield RunStarted(target=target.public_url, seed=settings.seed, clauses=clauses)
        client = ContractClient(target, profile)
        try:
            unusable = _preflight(target, client)
        except RunDeadlinePassed as exc:
            unusable = f"not decided: the run's deadline (--deadline) passed ({exc})"
        if unusable:
            notes.append(unusable)
        went_away = False
        watch = Watch(roles=roles_of(profile, target.base_url))
        # The clauses judged on every exchange come last, when the run has seen it all.
        order = sorted(clauses, key=lambda clause: clause.id in PASSIVE)
        for clause in order:
            interruption.stop_if_interrupted()  # however the signal got lost on its way
            if unusable is not None:
                result = _result(clause, settings.seed, Verdict.ERROR, unusable, 0.0)
                missing = _missing(clause, profile, settings) if went_away else None
                if missing is not None:  # a clause that never applied still does not
                    result = _result(clause, settings.seed, Verdict.NOT_APPLICABLE, missing, 0.0)
            elif stop_at is not None and time.monotonic() >= stop_at:
                late += 1
                why = f"not decided: the run's deadline of {deadline:g} s (--deadline) had passed"
                result = _result(
                    clause, clause_seed(settings.seed, clause.id), Verdict.ERROR, why, 0.0
                )
            else:
                yield ClauseStarted(clause)
                mark = target.mark()
                result = run_clause(clause, client, settings, notes=notes)
                watch.judge(target.since(mark), clause.id)
                result = watch.settle(result)
                if result.verdict is Verdict.ERROR and result.summary.startswith(NO_ANSWER):
                    # Gone for good? Then every clause left would wait for it in vain.
                    gone = _still_there(target, client)
                    if gone is not None:
                        went_away = True
                        unusable = (
                            f"not decided: the target stopped answering during {clause.id} ({gone})"
                        )
                        notes.append(unusable)
            results.append(result)
            yield ClauseFinished(result)
        notes.extend(watch.unselected(clause.id for clause in clauses))
        interruption.hold()  # the run is over: a signal now waits until it is reported
    except KeyboardInterrupt:
        # The run ends early but still ends: the report holds what was decided.
        notes.append(f"{INTERRUPTED}: {len(results)} of {len(clauses)} clauses decided")
    finally:
        if stop_at is not None:  # what is left of the run: the clean-up's overtime
            target.stop_at(stop_at + CLEANUP_OVERTIME)
    if late:
        notes.append(
            f"deadline: the run's deadline of {deadline:g} s passed; "
            f"{late} of {len(clauses)} clauses were not started"
        )
    report = RunReport(
        tool="session-conformance",
        version=__version__,
        target=target.public_url,
        profile=profile.name,
        seed=settings.seed,
        started_at=started_at,
        duration_ms=(time.perf_counter() - started) * 1000,
        results=tuple(sorted(results, key=lambda r: position[r.clause_id])),
        settings=(
            *_settings_items(settings),
            *target.limits.items(),
            ("deadline", "none" if deadline is None else f"{deadline:g}"),
        ),
        notes=tuple(notes),
    )
    yield RunFinished(report)


def run_clause(
    clause: Clause,
    client: ContractClient,
    settings: Settings,
    *,
    notes: list[str] | None = None,
) -> ClauseResult:
    """Run one clause's check and turn what happened into a verdict; ``notes`` gets what
    the run must say besides (sessions made for users outside the harness's namespace)."""
    seed = clause_seed(settings.seed, clause.id)
    missing = _missing(clause, client.profile, settings)
    if missing is not None:
        return _result(clause, seed, Verdict.NOT_APPLICABLE, missing, 0.0)
    check = all_checks().get(clause.id)
    if check is None:
        return _result(clause, seed, Verdict.ERROR, "no check is implemented for this clause", 0.0)
    if not settings.features <= client.profile.features:  # only what the layout can have
        settings = dataclasses.replace(
            settings, features=settings.features & client.profile.features
        )
    ctx = CheckContext(clause, client, settings, seed)
    mark = client.target.mark()
    started = time.perf_counter()
    findings: list[Finding] = []
    verdict, summary = Verdict.PASSED, ""
    out_of_layout = False
    try:
        for finding in check(ctx):
            findings.append(finding)
    except NotApplicable as exc:
        verdict, summary = Verdict.NOT_APPLICABLE, str(exc)
    except NotInLayout as exc:  # what was found before it stands
        verdict, summary, out_of_layout = Verdict.NOT_APPLICABLE, str(exc), True
    except Undecided as exc:
        verdict, summary = Verdict.ERROR, str(exc)
    except RunDeadlinePassed as exc:
        verdict, summary = (
            Verdict.ERROR,
            f"not decided: the run's deadline (--deadline) passed ({exc})",
        )
    except TargetError as exc:
        verdict, summary = Verdict.ERROR, f"{NO_ANSWER}: {exc}"
    except Exception as exc:
        verdict, summary = Verdict.ERROR, f"the check itself failed: {type(exc).__name__}: {exc}"
    finally:
        checked = client.target.mark()  # what the check sent, before its clean-up
        # Also after an interrupt; a second signal cuts the clean-up short.
        with client.target.overtime(CLEANUP_OVERTIME), interruption.acting():
            ctx.cleanup()
        if ctx.foreign and notes is not None:
            shown = ", ".join(f"{sid!r} of user {user!r}" for user, sid in sorted(ctx.foreign)[:5])
            notes.append(
                f"left alone: {clause.id}'s requests made {len(ctx.foreign)} session(s) for "
                f"users outside the harness's namespace ({HARNESS_USERS}...), which it never "
                f"deletes: {shown}"
            )
    duration = (time.perf_counter() - started) * 1000
    exchanges = client.target.since(mark)
    sent = client.target.mark() - mark
    if findings and (verdict is not Verdict.NOT_APPLICABLE or out_of_layout):
        verdict = Verdict.FAILED
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        summary = findings[0].message + more
    elif verdict is Verdict.PASSED and ctx.skipped and not ctx.judged:
        verdict, summary = Verdict.NOT_APPLICABLE, _skipped(ctx.skipped, everything=True)
    elif verdict is Verdict.PASSED:
        summary = ctx.summary or f"{sent} exchange(s), no violation"
        if ctx.skipped:
            summary += f" ({_skipped(ctx.skipped, everything=False)})"
    return ClauseResult(
        clause_id=clause.id,
        family=clause.family,
        level=clause.level,
        statement=clause.statement,
        verdict=verdict,
        summary=summary,
        seed=seed,
        duration_ms=duration,
        findings=tuple(findings[:MAX_FINDINGS]),
        exchanges=_evidence(verdict, tuple(e for e in exchanges if e.index < checked)),
    )


def _evidence(verdict: Verdict, exchanges: tuple[Exchange, ...]) -> tuple[Exchange, ...]:
    """A sample of what was sent; for ``error``, the exchange that ended the check too."""
    if verdict is Verdict.FAILED:
        return ()  # the findings carry their exchanges
    if verdict is Verdict.ERROR and len(exchanges) > EVIDENCE_SAMPLE:
        return (*exchanges[: EVIDENCE_SAMPLE - 1], exchanges[-1])
    return exchanges[:EVIDENCE_SAMPLE]


def exit_code(report: RunReport, *, strict: bool = False) -> int:
    """0 all applicable clauses passed; 1 a clause failed; 3 undecided (error), none failed.

    A failed SHOULD or MAY clause fails the run only with ``strict``.
    """
    failed = [
        r for r in report.results if r.verdict is Verdict.FAILED and (strict or r.level == "MUST")
    ]
    if failed:
        return 1
    if any(r.verdict is Verdict.ERROR for r in report.results):
        return 3
    return 0


def _preflight(target: Target, client: ContractClient) -> str | None:
    """One harmless request first (a list for a user id of the harness's, or where the
    layout has no list, a get or status of a never-created id: it reads, never changes,
    anyone's sessions): a target that gives no usable answer, or redirects it elsewhere,
    decides no clause at all."""
    try:
        exchange = client.safe_read("sc-preflight")
    except RunDeadlinePassed:
        raise
    except Unreachable as exc:
        return f"target unreachable: {exc}"
    except TargetError as exc:
        return f"{NO_ANSWER}: {exc}"
    location = exchange.response.header("location") if exchange.response else None
    if exchange.status is not None and 300 <= exchange.status < 400:
        return (
            f"the target redirects ({exchange.request.method} {exchange.request.url} answered "
            f"{exchange.status} to {location or 'nowhere'}); the harness follows no redirect, "
            "so that the token and probes never leave the target: give the URL that answers"
        )
    return None


def _still_there(target: Target, client: ContractClient) -> str | None:
    """None if the target still answers the preflight request, else why not."""
    try:
        return _preflight(target, client)
    except RunDeadlinePassed:
        return None  # the clauses left are not started anyway, for the deadline


def _skipped(reasons: dict[str, int], *, everything: bool) -> str:
    """Why values drawn by the check's properties were not sent."""
    count = sum(reasons.values())
    first = next(iter(reasons))
    what = "every value the check drew" if everything else f"{count} drawn value(s) skipped"
    more = f" (+{len(reasons) - 1} other reason(s))" if len(reasons) > 1 else ""
    return f"{what}: {first}{more}"


def _missing(clause: Clause, profile: Profile, settings: Settings) -> str | None:
    for feature in clause.features:
        if feature not in profile.features:
            why = PROFILE_FEATURES.get(feature, feature)
            return f"profile {profile.name!r} declares no {feature} ({why})"
        enabled = {
            "auth": settings.token is not None,
            "cors": settings.cors_origin is not None,
            "location": True,  # the profile's alone, checked above
            "users": True,
        }.get(feature, feature in settings.features)
        if not enabled:
            return FEATURE_REASONS.get(feature, f"the target lacks feature {feature!r}")
    absent = [role for role in clause.roles if not profile.has(role)]
    if absent:
        return f"profile {profile.name!r} has no {', '.join(absent)} route"
    return None


def _result(clause: Clause, seed: int, verdict: Verdict, summary: str, ms: float) -> ClauseResult:
    return clause.result(verdict, summary, seed=seed, duration_ms=ms)


def _settings_items(settings: Settings) -> tuple[tuple[str, str], ...]:
    return (
        ("max_examples", str(settings.max_examples)),
        ("max_steps", str(settings.max_steps)),
        ("concurrency", str(settings.concurrency)),
        ("ready_timeout", f"{settings.ready_timeout:g}"),
        ("auth", "on" if settings.token else "off"),
        ("cors_origin", settings.cors_origin or ""),
    )
