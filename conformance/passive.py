"""Passive invariants: what every answer of a run must show, whichever clause sent it.

schemathesis runs its checks on every response; so does the harness. A probe aims at one
clause, but a backend breaks a rule wherever it breaks it: a handler that crashes with a
``text/plain`` 500 on a bad body for a live session, a ``403`` page to a foreign
``Origin``, a body parser's HTML ``400``. CONTRACT.md ("Precisions") holds every
response of the run to the JSON-only rule; and an answer that names the session twice
(``session_id`` and ``session.session_id``) names one session (ID-001 for a create,
ID-003 for any other answer), whichever probe provoked it.

:class:`Watch` is what the runner keeps while a run goes on: it judges every exchange of
every clause (:meth:`Watch.judge`) and hands the violations to the clause they break when
that clause's result is made (:meth:`Watch.settle`), each finding naming the clause whose
probe provoked it ("seen while checking VAL-003"). The clauses judged this way run after
the others (:data:`PASSIVE`), so that everything the run saw is in; a run that does not
select such a clause still says, in its notes, what it saw of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from conformance.expectations import describe, envelope_problems
from conformance.generation import is_missing_id
from conformance.profile import Profile
from conformance.profile.routing import route_pattern
from conformance.records import ClauseResult, Exchange, Finding, Verdict

#: Every error response is the JSON envelope and leaks nothing.
JSON_ONLY = "ERR-006"
#: One id wherever an answer names the session: a create's (201) and any other's.
CREATE_ID, SAME_ID = "ID-001", "ID-003"
#: A sentinel session id is refused (400), never looked up (404) or served (2xx): in a
#: path, in a run body, in a create body.
SENTINEL_PATH, SENTINEL_RUN, SENTINEL_CREATE = "SENT-001", "SENT-002", "SENT-004"
#: The clauses judged on every exchange of the run.
PASSIVE = frozenset({JSON_ONLY, CREATE_ID, SAME_ID, SENTINEL_PATH, SENTINEL_RUN, SENTINEL_CREATE})
#: Findings kept per clause (the rest are counted).
KEPT = 5


@dataclass(slots=True)
class Watch:
    """The passive judgements of one run (mutable: the runner feeds it exchanges).

    ``roles`` matches a request against the target's routes (:func:`roles_of`: method
    and path against the profile's routes; for a trace, what :mod:`conformance.observed`
    read): the role and the session id the request names outside its body. Which role an
    exchange was sent for is read in one place, :meth:`role_of`."""

    roles: Callable[[Exchange], tuple[str, str | None] | None] = lambda _: None

    #: Violations seen so far, per clause id.
    seen: dict[str, list[Finding]] = field(default_factory=dict)
    #: How many more were seen than kept, per clause id.
    more: dict[str, int] = field(default_factory=dict)
    #: Error responses judged by the JSON-only rule (with or without a violation).
    errors_judged: int = 0
    #: Exchanges each clause judged, with or without a violation (a clause no exchange
    #: gave a chance to break was not exercised).
    judged: dict[str, int] = field(default_factory=dict)

    def judge(self, exchanges: Iterable[Exchange], sender: str) -> None:
        """Judge every exchange a clause (``sender``) sent, its clean-up included."""
        for exchange in exchanges:
            response = exchange.response
            if response is None or response.truncated:
                continue
            self._sentinel(exchange, sender)
            if response.status < 400:
                self._one_id(exchange, sender)
            else:
                self._json_only(exchange, sender)

    def _json_only(self, exchange: Exchange, sender: str) -> None:
        """An error response is the JSON error envelope and leaks no internals."""
        self.errors_judged += 1
        self._count(JSON_ONLY)
        problems = envelope_problems(exchange)
        if not problems:
            return
        request = exchange.request
        self._add(
            JSON_ONLY,
            Finding(
                f"seen while checking {sender}: {request.method} {request.url} "
                f"answered {exchange.status}: "
                f"{'; '.join(problems)}; got {describe(exchange)}",
                "every error response of the run, whichever probe provoked it, is "
                "the JSON error envelope and leaks no internals",
                exchange,
            ),
        )

    def _one_id(self, exchange: Exchange, sender: str) -> None:
        """An answer that names the session at the top and in ``session`` names one
        session: the two ids are equal."""
        body = exchange.body_json()
        session = body.get("session") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(session, dict):
            return
        if "session_id" not in body or "session_id" not in session:
            return
        top, nested = body["session_id"], session["session_id"]
        clause = CREATE_ID if exchange.status == 201 else SAME_ID
        self._count(clause)
        if top == nested and isinstance(top, str) and top.strip():
            return
        request = exchange.request
        self._add(
            clause,
            Finding(
                f"seen while checking {sender}: {request.method} {request.url} answered "
                f"{exchange.status} naming the session {top!r} as session_id but {nested!r} "
                "as session.session_id",
                "one non-empty id wherever an answer names the session",
                exchange,
            ),
        )

    def _sentinel(self, exchange: Exchange, sender: str) -> None:
        """A request naming a sentinel session id (path, or a run's or create's body)
        answered 2xx or 404: it was looked up or served, not refused."""
        status = exchange.status or 0
        found = self.role_of(exchange)
        if found is None:
            return
        role, path_id = found
        sent = exchange.sent_json()
        body_id = sent.get("session_id") if isinstance(sent, dict) else None
        # (An empty or blank path segment may route elsewhere: only named sentinels.)
        if path_id is not None and path_id.strip() and is_missing_id(path_id):
            clause, shown = SENTINEL_PATH, path_id
        elif not isinstance(body_id, str) or not is_missing_id(body_id):
            return
        elif role in ("run", "run_stream"):
            clause, shown = SENTINEL_RUN, body_id
        elif role == "create":  # a client-chosen id that is a sentinel
            clause, shown = SENTINEL_CREATE, body_id
        else:
            return
        if status == 404 and _routes_elsewhere(exchange.request.url):
            return  # a route 404: the path did not reach the session's route
        self._count(clause)
        if not (200 <= status < 300 or status == 404):
            return
        request = exchange.request
        self._add(
            clause,
            Finding(
                f"seen while checking {sender}: {request.method} {request.url} named the "
                f"sentinel session id {shown!r} and was answered {status}",
                "400 SESSION_ID_MISSING: a sentinel is refused, never looked up or served",
                exchange,
            ),
        )

    def role_of(self, exchange: Exchange) -> tuple[str, str | None] | None:
        """The role ``exchange`` was sent for, and the session id its request names
        outside the body (None: none). The role is :attr:`Exchange.role`, set when the
        contract client sent it (or when :mod:`conformance.observed` read a trace); the
        route match (``roles``) is the fallback, used for the role only when
        ``Exchange.role`` is None (a request sent for no role, e.g. raw bytes to a
        route), and for the id the path names. None: no role at all."""
        matched = self.roles(exchange)
        if exchange.role is None:
            return matched
        named = matched[1] if matched is not None and matched[0] == exchange.role else None
        return exchange.role, named

    def settle(self, result: ClauseResult) -> ClauseResult:
        """``result`` with what was seen of its clause on the whole run: failed with
        that evidence (after the clause's own findings), or ``error`` when the run saw
        nothing the clause could judge."""
        if result.clause_id not in PASSIVE:
            return result
        own = {f.exchange.index for f in result.findings if f.exchange is not None}
        seen = [
            f
            for f in self.seen.get(result.clause_id, [])
            if f.exchange is None or f.exchange.index not in own
        ]
        if not seen:
            if result.clause_id != JSON_ONLY:
                return result
            if result.verdict is Verdict.PASSED and self.errors_judged == 0:
                return dataclasses.replace(
                    result,
                    verdict=Verdict.ERROR,
                    summary="not decided: no response of the run was an error, so none "
                    "could be held to the envelope",
                )
            if result.verdict is Verdict.PASSED:
                summary = (
                    f"{result.summary}; {self.errors_judged} error response(s) of the run judged"
                )
                return dataclasses.replace(result, summary=summary)
            return result
        findings = (*result.findings, *seen)
        extra = len(findings) - 1 + self.more.get(result.clause_id, 0)
        return dataclasses.replace(
            result,
            verdict=Verdict.FAILED,
            findings=findings[:KEPT],
            summary=findings[0].message + (f" (+{extra} more)" if extra else ""),
            exchanges=(),
        )

    def unselected(self, selected: Iterable[str]) -> list[str]:
        """Notes on what was seen of passive clauses the run did not select."""
        chosen = set(selected)
        notes = []
        for clause_id, findings in sorted(self.seen.items()):
            if clause_id not in chosen and findings:
                count = len(findings) + self.more.get(clause_id, 0)
                notes.append(
                    f"passive: {count} exchange(s) broke {clause_id}, which was not selected; "
                    f"the first: {findings[0].message}"
                )
        return notes

    def _count(self, clause_id: str) -> None:
        self.judged[clause_id] = self.judged.get(clause_id, 0) + 1

    def _add(self, clause_id: str, finding: Finding) -> None:
        kept = self.seen.setdefault(clause_id, [])
        if len(kept) < KEPT:
            kept.append(finding)
        else:
            self.more[clause_id] = self.more.get(clause_id, 0) + 1


def roles_of(
    profile: Profile, base_url: str
) -> Callable[[Exchange], tuple[str, str | None] | None]:
    """Which role of ``profile`` a request was sent to, and the session id its path
    named (None: the path names none), from its method and path; None: no role's. The
    route match :meth:`Watch.role_of` falls back on (the role of a request sent for
    none) and reads path ids with."""
    base = urlsplit(base_url).path.rstrip("/")
    routes = [
        (role, route.method, route_pattern(base, route.template)) for role, route in profile.routes
    ]

    def role_of(exchange: Exchange) -> tuple[str, str | None] | None:
        request = exchange.request
        path = urlsplit(request.url).path
        for role, method, pattern in routes:
            match = pattern.fullmatch(path)
            if match is not None and request.method == method:
                found = match.groupdict().get("session_id")
                return role, None if found is None else unquote(found)
        return None

    return role_of


def _routes_elsewhere(url: str) -> bool:
    """Whether a segment of ``url``'s path may not be routed as one segment: it decodes
    to a slash or a backslash, or is a dot segment (``..%2Fx`` as a user id). A server
    may decode or normalize it before routing (Starlette decodes ``%2F``) and answer that
    no route matched: such a 404 says nothing of how a sentinel session id was treated."""
    segments = urlsplit(url).path.split("/")
    return any(
        "/" in (decoded := unquote(segment)) or "\\" in decoded or decoded in (".", "..")
        for segment in segments
    )
