"""The server clauses judged on observed traffic: ``verify-trace``.

A trace (the validation proxy's, in front of a real backend, or the mock's) shows what a
backend answered to a real client. Some server clauses can be decided from that alone,
sending nothing: every error is the JSON envelope (ERR-006), one id wherever an answer
names the session (ID-001, ID-003), a sentinel session id is refused, never looked up or
served (SENT-001/002/004) — the judgements of :mod:`conformance.passive`, fed the
trace's exchanges read through the profile (:mod:`conformance.observed`) — and a 422 is
the validation envelope (VAL-009), a run on an id the trace never saw created is not
served (LIFE-001), and each session's status polls show a percent that never goes down
and phases that never go back and stay final (POLL-002, POLL-003, POLL-005: the
judgements of :mod:`conformance.checks.polling`, on each session's observations).

Every verdict says it was judged on observed traffic. A clause no exchange gave the
backend a chance to break is ``not_applicable`` with the reason, never ``passed``; the
clauses that need probes of their own are not judged here (``check`` sends them). The
events are the runner's, so the console and JSON reports and the exit codes are
``check``'s. A trace with no answered exchange decides nothing: every clause ``error``.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from conformance import __version__
from conformance.checks.polling import (
    Observation,
    final_finding,
    from_session,
    from_status,
    percent_finding,
    phase_finding,
)
from conformance.events import ClauseFinished, Event, RunFinished, RunStarted
from conformance.expectations import (
    VALIDATION_ENVELOPE,
    describe,
    validation_envelope_problems,
)
from conformance.generation import is_missing_id
from conformance.kernel import MAX_FINDINGS
from conformance.mock.trace import Trace
from conformance.observed import Seen, observe
from conformance.passive import (
    CREATE_ID,
    JSON_ONLY,
    SAME_ID,
    SENTINEL_CREATE,
    SENTINEL_PATH,
    SENTINEL_RUN,
    Watch,
)
from conformance.profile import Profile
from conformance.records import ClauseResult, Exchange, Finding, RunReport, Verdict
from conformance.registry import Clause
from conformance.runner import select as select_clauses

SEED = 0
#: Where every summary says its verdict came from.
OBSERVED = "on observed traffic"
#: What the passive judgements say provoked a violation.
SENDER = "the observed traffic"
#: Why a clause was not exercised, when the traffic gave it no chance.
UNEXERCISED = {
    JSON_ONLY: "no answer of the traffic was an error (status >= 400)",
    CREATE_ID: "no create was answered 201 with session_id and session.session_id",
    SAME_ID: "no other answer named the session both at the top and in session",
    SENTINEL_PATH: "no get, status or delete named a sentinel session id",
    SENTINEL_RUN: "no run named a sentinel session id",
    SENTINEL_CREATE: "no create chose a sentinel session id",
    "VAL-009": "no answer was a 422",
    "LIFE-001": "no run named a session id the traffic had not seen created, or it was "
    "answered neither 2xx nor 404",
    "POLL-002": "no session was polled twice with an integer percent",
    "POLL-003": "no session was seen twice (create answer or status poll)",
    "POLL-005": "no session was seen again after a final phase (Ready or Failed), "
    "and no poll answered Failed",
}
#: The clauses verify-trace judges, in the registry's order.
JUDGED = frozenset(UNEXERCISED)


class NotJudged(ValueError):
    """A clause asked for that traffic alone cannot decide."""


def clauses(clause_ids: Sequence[str] = ()) -> tuple[Clause, ...]:
    """The clauses judged on traffic (those of them named), or :class:`NotJudged` /
    :class:`~conformance.runner.UnknownClause`."""
    chosen = select_clauses(clause_ids, subject="server")
    others = [clause.id for clause in chosen if clause.id not in JUDGED]
    if clause_ids and others:
        raise NotJudged(
            f"{', '.join(others)} cannot be decided from observed traffic alone (check it "
            f"with `session-conformance check URL`); verify-trace judges {', '.join(sorted(JUDGED))}"
        )
    return tuple(clause for clause in chosen if clause.id in JUDGED)


@dataclass(slots=True)
class Judgement:
    """What the traffic showed of one clause (mutable while the trace is read)."""

    findings: list[Finding] = field(default_factory=list)
    judged: int = 0
    more: int = 0

    def add(self, finding: Finding) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.more += 1


def verify_trace(
    trace: Trace, profile: Profile, *, clause_ids: Sequence[str] = ()
) -> Iterator[Event]:
    """Judge ``trace`` through ``profile``: the runner's events, one clause at a time."""
    chosen = clauses(clause_ids)
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    yield RunStarted(target=f"the server traffic in {trace.path}", seed=SEED, clauses=chosen)
    pairs = tuple((item.started, item.exchange) for item in trace.exchanges)
    seen = observe(pairs, profile, trace.header.base_url)
    answered = [item for item in seen if item.answered]
    judgements = _judge(seen) if answered else {}
    results = []
    for clause in chosen:
        if not answered:
            reason = (
                "the trace holds no answered exchange: the backend never answered "
                f"through {trace.header.base_url}"
            )
            result = _result(clause, Verdict.ERROR, reason)
        else:
            result = _verdict(clause, judgements.get(clause.id, Judgement()))
        results.append(result)
        yield ClauseFinished(result)
    upstream = trace.header.upstream
    yield RunFinished(
        RunReport(
            tool="session-conformance",
            version=__version__,
            target=trace.path,
            profile=profile.name,
            seed=SEED,
            started_at=started_at,
            duration_ms=(time.perf_counter() - started) * 1000,
            results=tuple(results),
            settings=(
                ("recorder", trace.header.recorder),
                *((("upstream", upstream),) if upstream is not None else ()),
                ("exchanges", str(len(trace.exchanges))),
            ),
            notes=(
                "judged passively on observed traffic: nothing was sent; a clause the "
                "traffic gave no chance to break is not_applicable",
            ),
        )
    )


def _judge(seen: tuple[Seen, ...]) -> dict[str, Judgement]:
    answered = [item for item in seen if item.answered]
    roles = {item.exchange.index: item for item in seen}
    watch = Watch(roles=_roles_of(roles))
    watch.judge((item.exchange for item in answered), SENDER)
    judgements: dict[str, Judgement] = {}
    for clause_id in (JSON_ONLY, CREATE_ID, SAME_ID, SENTINEL_PATH, SENTINEL_RUN, SENTINEL_CREATE):
        judgement = Judgement(list(watch.seen.get(clause_id, [])), watch.judged.get(clause_id, 0))
        judgement.more = watch.more.get(clause_id, 0)
        judgements[clause_id] = judgement
    judgements["VAL-009"] = _validation_envelopes(answered)
    judgements["LIFE-001"] = _runs_on_unknown_ids(answered)
    judgements.update(_polls(answered))
    return judgements


def _roles_of(
    by_index: dict[int, Seen],
) -> Callable[[Exchange], tuple[str, str | None] | None]:
    """For the passive judgements: the role of an exchange and the session id its
    request names outside the body (in the path, or where the layout keeps it)."""

    def role_of(exchange: Exchange) -> tuple[str, str | None] | None:
        item = by_index.get(exchange.index)
        if item is None or item.role is None:
            return None
        named = item.session_id if item.role in ("get", "status", "delete") else None
        return item.role, named

    return role_of


def _validation_envelopes(answered: list[Seen]) -> Judgement:
    """VAL-009: every 422 of a role's route is the validation envelope."""
    judgement = Judgement()
    for item in answered:
        if item.role is None or item.exchange.status != 422:
            continue
        judgement.judged += 1
        problems = validation_envelope_problems(item.exchange)
        if problems:
            request = item.exchange.request
            judgement.add(
                Finding(
                    f"{request.method} {request.url} answered 422: {'; '.join(problems[:3])}; "
                    f"got {describe(item.exchange)}",
                    VALIDATION_ENVELOPE,
                    item.exchange,
                )
            )
    return judgement


def _runs_on_unknown_ids(answered: list[Seen]) -> Judgement:
    """LIFE-001: a run on an id no earlier answer showed to exist (created by a create,
    or named by a 2xx get, status or list) is never answered 2xx; a 404 is what it gets."""
    judgement = Judgement()
    known: set[str] = set()
    for item in sorted(answered, key=lambda s: s.started):
        status = item.exchange.status or 0
        if item.role in ("run", "run_stream") and item.session_id is not None:
            unseen = item.session_id not in known and not is_missing_id(item.session_id)
            if unseen and (200 <= status < 300 or status == 404):
                judgement.judged += 1
                if status != 404:
                    request = item.exchange.request
                    judgement.add(
                        Finding(
                            f"{request.method} {request.url} ran the session "
                            f"{item.session_id!r}, which no earlier answer showed created, and "
                            f"was answered {status}",
                            "404 SESSION_NOT_FOUND for a run on a session id never created",
                            item.exchange,
                        )
                    )
        known.update(_ids_shown(item))
    return judgement


def _ids_shown(item: Seen) -> set[str]:
    """Session ids an answer shows to exist."""
    status = item.exchange.status or 0
    if not 200 <= status < 300:
        return set()
    if item.created_id is not None:
        return {item.created_id}
    if item.role in ("get", "status") and item.session_id is not None:
        return {item.session_id}
    body = item.exchange.body_json()
    listed = body.get("sessions") if item.role == "list" and isinstance(body, dict) else None
    if not isinstance(listed, list):
        return set()
    entries = (entry.get("session_id") for entry in listed if isinstance(entry, dict))
    return {value for value in entries if isinstance(value, str)}


def _polls(answered: list[Seen]) -> dict[str, Judgement]:
    """POLL-002/003/005 on each session's observations, in the order they arrived: the
    create answer's session, then every status poll answered 200."""
    sessions: dict[tuple[str | None, str], list[Observation]] = {}
    for item in sorted(answered, key=lambda s: s.started):
        if item.created_id is not None:
            first = from_session(item.exchange)
            if isinstance(first.phase, str) and isinstance(first.ready, bool):
                sessions.setdefault((item.user_id, item.created_id), []).append(first)
        elif item.role == "status" and item.session_id is not None and item.exchange.status == 200:
            sessions.setdefault((item.user_id, item.session_id), []).append(
                from_status(item.exchange)
            )
    percent, phases, final = Judgement(), Judgement(), Judgement()
    for observations in sessions.values():
        polls = [o for o in observations if o.from_status and _is_int(o.percent)]
        if len(polls) >= 2:
            percent.judged += 1
            _add(percent, percent_finding(polls))
        if len(observations) >= 2:
            phases.judged += 1
            _add(phases, phase_finding(observations))
        if _final_exercised(observations):
            final.judged += 1
            _add(final, final_finding(observations))
    return {"POLL-002": percent, "POLL-003": phases, "POLL-005": final}


def _final_exercised(observations: list[Observation]) -> bool:
    """Whether a session was seen after a final phase, or a poll answered Failed."""
    for index, now in enumerate(observations):
        if now.phase == "Failed" and now.from_status:
            return True
        if now.phase in ("Ready", "Failed") and index < len(observations) - 1:
            return True
    return False


def _add(judgement: Judgement, finding: Finding | None) -> None:
    if finding is not None:
        judgement.add(finding)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _verdict(clause: Clause, judgement: Judgement) -> ClauseResult:
    findings = judgement.findings
    if findings:
        extra = len(findings) - 1 + judgement.more
        summary = f"{OBSERVED}: {findings[0].message}" + (f" (+{extra} more)" if extra else "")
        return _result(clause, Verdict.FAILED, summary, tuple(findings))
    if judgement.judged == 0:
        reason = f"not exercised {OBSERVED}: {UNEXERCISED[clause.id]}"
        return _result(clause, Verdict.NOT_APPLICABLE, reason)
    summary = f"judged {OBSERVED}: {judgement.judged} exchange(s) or session(s), no violation"
    return _result(clause, Verdict.PASSED, summary)


def _result(
    clause: Clause, verdict: Verdict, summary: str, findings: tuple[Finding, ...] = ()
) -> ClauseResult:
    return clause.result(verdict, summary, seed=SEED, findings=findings)
