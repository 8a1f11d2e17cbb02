"""The kernel: decides one clause against a target into a result.

Whatever shell runs a clause (``check``, the pytest plugin, a lane of the concurrent
runner), it is decided here, the same way: not applicable at once when the profile or
the settings lack what it needs; else its check runs, with the clause's own seed, and
what happened becomes the verdict. No finding is ``passed``; findings are ``failed``;
:class:`~conformance.context.NotApplicable` is ``not_applicable``;
:class:`~conformance.context.Undecided`, a :class:`~conformance.target.TargetError`
(timeout, reset, oversize, deadline ...) or a fault in a check is ``error`` — never
``passed``. Why a clause is undecided is a value (:class:`Why`), for the runner to act on.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import time
from dataclasses import dataclass

from conformance import hypothesis_guard, interruption
from conformance.checks import all_checks
from conformance.client import ContractClient
from conformance.context import CheckContext, NotApplicable, Settings, Undecided
from conformance.deadline import CLEANUP_OVERTIME
from conformance.leftovers import HARNESS_USERS
from conformance.profile import NotInLayout, Profile, lacking
from conformance.records import ClauseResult, Exchange, Finding, Verdict
from conformance.registry import Clause
from conformance.target import RunDeadlinePassed, TargetError

hypothesis_guard.guard()

#: Findings kept per failed clause; the rest are counted in the summary.
MAX_FINDINGS = 5
#: Exchanges kept as evidence for a clause that did not fail.
EVIDENCE_SAMPLE = 3
#: How the summary of a clause ended by a :class:`TargetError` begins.
NO_ANSWER = "no usable answer from the target"

FEATURE_REASONS = {
    "auth": "the target declares no bearer token (give --token to check auth)",
    "cors": "the target declares no CORS origin (give --cors-origin to check CORS)",
    "client_ids": "the target does not accept client-chosen session ids",
}


class Why(enum.Enum):
    """Why a clause was left undecided (``error``)."""

    #: The target gave no usable answer (refused, reset, timed out, oversize).
    NO_ANSWER = "no_answer"
    #: The run's deadline passed, or the run was interrupted, before it was decided.
    DEADLINE = "deadline"
    #: A precondition the check could not set up, or a fault in the check itself.
    UNDECIDED = "undecided"


@dataclass(frozen=True, slots=True)
class Decision:
    """A clause's result, why it is undecided (None: it was decided), the exchanges its
    check sent (clean-up included) and the notes the run must carry besides."""

    result: ClauseResult
    why: Why | None = None
    exchanges: tuple[Exchange, ...] = ()
    notes: tuple[str, ...] = ()


def clause_seed(seed: int, clause_id: str) -> int:
    """The seed of one clause: stable for (run seed, clause id), so a clause replays alone."""
    digest = hashlib.sha256(f"{seed}:{clause_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def decide(clause: Clause, client: ContractClient, settings: Settings) -> Decision:
    """Run one clause's check on ``client`` (whose target records only this clause's
    traffic, or traffic after it) and turn what happened into a verdict."""
    seed = clause_seed(settings.seed, clause.id)
    missing = missing_reason(clause, client.profile, settings)
    if missing is not None:
        return Decision(clause.result(Verdict.NOT_APPLICABLE, missing, seed=seed, duration_ms=0))
    check = all_checks().get(clause.id)
    if check is None:
        reason = "no check is implemented for this clause"
        return Decision(
            clause.result(Verdict.ERROR, reason, seed=seed, duration_ms=0), Why.UNDECIDED
        )
    if not settings.features <= client.profile.features:  # only what the layout can have
        settings = dataclasses.replace(
            settings, features=settings.features & client.profile.features
        )
    ctx = CheckContext(clause, client, settings, seed)
    target = client.target
    mark = target.mark()
    started = time.perf_counter()
    findings: list[Finding] = []
    verdict, summary = Verdict.PASSED, ""
    why: Why | None = None
    out_of_layout = False
    notes: list[str] = []
    try:
        for finding in check(ctx):
            findings.append(finding)
    except NotApplicable as exc:
        verdict, summary = Verdict.NOT_APPLICABLE, str(exc)
    except NotInLayout as exc:  # what was found before it stands
        verdict, summary, out_of_layout = Verdict.NOT_APPLICABLE, str(exc), True
    except Undecided as exc:
        verdict, summary, why = Verdict.ERROR, str(exc), Why.UNDECIDED
    except RunDeadlinePassed as exc:
        verdict, why = Verdict.ERROR, Why.DEADLINE
        summary = (
            f"not decided: the run was interrupted ({exc})"
            if target.deadline.stopped()
            else f"not decided: the run's deadline (--deadline) passed ({exc})"
        )
    except TargetError as exc:
        verdict, summary, why = Verdict.ERROR, f"{NO_ANSWER}: {exc}", Why.NO_ANSWER
    except Exception as exc:
        verdict, why = Verdict.ERROR, Why.UNDECIDED
        summary = f"the check itself failed: {type(exc).__name__}: {exc}"
    finally:
        checked = target.mark()  # what the check sent, before its clean-up
        # Also after an interrupt; a second signal cuts the clean-up short.
        with target.overtime(CLEANUP_OVERTIME), interruption.acting():
            ctx.cleanup()
        if ctx.foreign:
            shown = ", ".join(f"{sid!r} of user {user!r}" for user, sid in sorted(ctx.foreign)[:5])
            notes.append(
                f"left alone: {clause.id}'s requests made {len(ctx.foreign)} session(s) for "
                f"users outside the harness's namespace ({HARNESS_USERS}...), which it never "
                f"deletes: {shown}"
            )
    duration = (time.perf_counter() - started) * 1000
    exchanges = target.since(mark)
    sent = sum(1 for e in exchanges if e.index < checked)
    if findings and (verdict is not Verdict.NOT_APPLICABLE or out_of_layout):
        verdict, why = Verdict.FAILED, None
        more = f" (+{len(findings) - 1} more)" if len(findings) > 1 else ""
        summary = findings[0].message + more
    elif verdict is Verdict.PASSED and ctx.skipped and not ctx.judged:
        verdict, summary = Verdict.NOT_APPLICABLE, _skipped(ctx.skipped, everything=True)
    elif verdict is Verdict.PASSED:
        summary = ctx.summary or f"{sent} exchange(s), no violation"
        if ctx.skipped:
            summary += f" ({_skipped(ctx.skipped, everything=False)})"
    result = clause.result(
        verdict,
        summary,
        seed=seed,
        duration_ms=duration,
        findings=tuple(findings[:MAX_FINDINGS]),
        exchanges=_evidence(verdict, tuple(e for e in exchanges if e.index < checked)),
    )
    return Decision(result, why, exchanges, tuple(notes))


def _evidence(verdict: Verdict, exchanges: tuple[Exchange, ...]) -> tuple[Exchange, ...]:
    """A sample of what was sent; for ``error``, the exchange that ended the check too."""
    if verdict is Verdict.FAILED:
        return ()  # the findings carry their exchanges
    if verdict is Verdict.ERROR and len(exchanges) > EVIDENCE_SAMPLE:
        return (*exchanges[: EVIDENCE_SAMPLE - 1], exchanges[-1])
    return exchanges[:EVIDENCE_SAMPLE]


def _skipped(reasons: dict[str, int], *, everything: bool) -> str:
    """Why values drawn by the check's properties were not sent."""
    count = sum(reasons.values())
    first = next(iter(reasons))
    what = "every value the check drew" if everything else f"{count} drawn value(s) skipped"
    more = f" (+{len(reasons) - 1} other reason(s))" if len(reasons) > 1 else ""
    return f"{what}: {first}{more}"


def missing_reason(clause: Clause, profile: Profile, settings: Settings) -> str | None:
    """Why the clause does not apply to this profile and these settings (None: it does)."""
    for feature in clause.features:
        gap = lacking(profile, (), (feature,))
        if gap is not None:
            return gap
        enabled = {
            "auth": settings.token is not None,
            "cors": settings.cors_origin is not None,
            "location": True,  # the profile's alone, checked above
            "users": True,
        }.get(feature, feature in settings.features)
        if not enabled:
            return FEATURE_REASONS.get(feature, f"the target lacks feature {feature!r}")
    return lacking(profile, clause.roles, ())
