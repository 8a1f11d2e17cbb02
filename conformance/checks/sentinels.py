"""Sentinels: ids a client sends when it lost the real one are refused (SENT-*).

A sentinel is ``undefined``, ``null``, ``none``, ``nil``, ``nan``, ``[object object]``
or the empty string, matched after trimming whitespace and case-insensitively. Wherever
a session id goes it is 400 ``SESSION_ID_MISSING``, before any lookup, so it is never
looked up, created or polled. The checks probe each sentinel as written first, then a
property over case variants and whitespace padding (shrinking to the plainest form).

Padding uses space and tab only in paths (both survive percent-encoding through any
proxy) and adds CR and LF in JSON bodies: every common ``trim`` strips those four. A
completely empty path segment is never probed: proxies may merge the slashes around it,
so the request would reach another route.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import strategies as st

from conformance.checks import check
from conformance.client import run_body
from conformance.context import CheckContext, Undecided
from conformance.expectations import describe, expect_error, field
from conformance.properties import for_all
from conformance.records import Exchange, Finding

#: The sentinels as the contract writes them (the empty string is the last).
SENTINELS = ("undefined", "null", "none", "nil", "nan", "[object object]", "")
#: How a JavaScript client writes some of them.
AS_SENT = ("undefined", "null", "None", "nil", "NaN", "[object Object]")
PATH_PADDING = " \t"
BODY_PADDING = " \t\r\n"
PATH_ROLES = ("get", "status", "delete")
MISSING = "SESSION_ID_MISSING"


def is_sentinel(value: str) -> bool:
    """Whether ``value`` is a sentinel id (after trimming, case-insensitively)."""
    return value.strip().lower() in SENTINELS


@dataclass(frozen=True, slots=True)
class Variant:
    """One spelling of a sentinel: its case pattern and whitespace padding."""

    sentinel: str
    upper: tuple[bool, ...]
    left: str
    right: str

    @property
    def text(self) -> str:
        cased = "".join(
            c.upper() if i < len(self.upper) and self.upper[i] else c
            for i, c in enumerate(self.sentinel)
        )
        return self.left + cased + self.right


@check("SENT-001")
def sentinel_in_path_is_400(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    roles = [role for role in PATH_ROLES if ctx.client.profile.has(role)]

    def probe(case: tuple[str, str]) -> Finding | None:
        role, session_id = case
        exchange = ctx.client.call(role, user_id=user, session_id=session_id)
        return _expect_missing(exchange, f"{role} with the path session id {session_id!r}")

    plain = [(roles[i % len(roles)], s) for i, s in enumerate((*AS_SENT, " "))]
    findings = [f for f in map(probe, plain) if f is not None]
    if findings:
        yield from findings
        return
    cases = st.tuples(st.sampled_from(roles), _variants(PATH_PADDING, allow_empty=False))
    yield from for_all(ctx, cases, probe)


@check("SENT-002")
def sentinel_in_run_body_is_400(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    roles = [role for role in ("run", "run_stream") if ctx.client.profile.has(role)]

    def probe(case: tuple[str, str]) -> Finding | None:
        role, session_id = case
        exchange = ctx.client.call(role, body=run_body(user, session_id))
        return _expect_missing(exchange, f"{role} with body session_id {session_id!r}")

    plain = [(roles[i % len(roles)], s) for i, s in enumerate((*AS_SENT, "", " "))]
    findings = [f for f in map(probe, plain) if f is not None]
    if findings:
        yield from findings
        return
    cases = st.tuples(st.sampled_from(roles), _variants(BODY_PADDING, allow_empty=True))
    yield from for_all(ctx, cases, probe)


@check("SENT-003")
def null_session_id_in_run_body_is_400(ctx: CheckContext) -> Iterator[Finding]:
    stranger = ctx.new_user()
    owner = ctx.create(ctx.new_user()).user_id  # a user who owns a session, too
    for role in ("run", "run_stream"):
        if not ctx.client.profile.has(role):
            continue
        for user in (stranger, owner):
            exchange = ctx.client.call(role, body=run_body(user, None))
            finding = _expect_missing(exchange, f"{role} with body session_id null")
            if finding is not None:
                yield finding
                return


@check("SENT-004")
def sentinel_client_id_at_create_is_400(ctx: CheckContext) -> Iterator[Finding]:
    ctx.require_feature("client_ids", "the target does not accept client-chosen session ids")
    user = ctx.create(ctx.new_user()).user_id  # the user exists, so its list is answered
    before = _listed(ctx, user)

    def probe(session_id: str) -> Finding | None:
        exchange = ctx.client.create(user, {"session_id": session_id})
        created = ctx.client.created_id(exchange)
        if created is not None and not is_sentinel(created):
            ctx.track(user, created)
        return _expect_missing(exchange, f"create with session_id {session_id!r}")

    findings = [f for f in map(probe, (*AS_SENT, "", " ")) if f is not None]
    if not findings:
        findings = list(for_all(ctx, _variants(BODY_PADDING, allow_empty=True), probe))
    yield from findings
    after = _listed(ctx, user)
    new = sorted(after.keys() - before.keys())
    if new and not findings:
        shown = ", ".join(repr(i) for i in new[:3]) + (
            f" (+{len(new) - 3} more)" if len(new) > 3 else ""
        )
        yield Finding(
            f"after creates with sentinel session ids, all refused with 400, the user's list "
            f"holds new sessions {shown}",
            "a refused create creates nothing",
            after[new[0]],
        )


@check("SENT-005")
def sentinel_is_refused_before_lookup(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.create(ctx.new_user())
    user = created.user_id
    roles = [role for role in ("get", "status", "run") if ctx.client.profile.has(role)]

    def probe(case: tuple[str, str]) -> Finding | None:
        role, session_id = case
        if role == "run":
            exchange = ctx.client.run(user, session_id)
        else:
            exchange = ctx.client.call(role, user_id=user, session_id=session_id)
        finding = _expect_missing(
            exchange, f"{role} with {session_id!r} by a user who owns {created.session_id!r}"
        )
        if finding is None:
            return None
        if field(exchange, "session_id") == created.session_id or exchange.status in (200, 409):
            message = f"{finding.message} (the sentinel was resolved to the user's session)"
            return Finding(message, finding.expected, exchange, steps=(created.exchange, exchange))
        return finding

    plain = [(role, sentinel) for role in roles for sentinel in ("undefined", "null")]
    findings = [f for f in map(probe, plain) if f is not None]
    if findings:
        yield from findings
        return
    cases = st.tuples(st.sampled_from(roles), _variants(PATH_PADDING, allow_empty=False))
    yield from for_all(ctx, cases, probe, max_examples=min(ctx.settings.max_examples, 12))


def _variants(padding: str, *, allow_empty: bool) -> st.SearchStrategy[str]:
    """Every sentinel in every case and padding; shrinks to the plain lower-case form."""
    pads = st.text(padding, max_size=3)
    variants = st.sampled_from(SENTINELS).flatmap(
        lambda s: st.builds(
            Variant,
            st.just(s),
            st.lists(st.booleans(), min_size=len(s), max_size=len(s)).map(tuple),
            pads,
            pads,
        )
    )
    return variants.map(lambda v: v.text).filter(lambda text: allow_empty or text != "")


def _expect_missing(exchange: Exchange, why: str) -> Finding | None:
    finding = expect_error(exchange, 400, MISSING, why)
    if finding is None:
        return None
    return Finding(
        f"{finding.message} (a sentinel id must be refused, never looked up)",
        finding.expected,
        exchange,
    )


def _listed(ctx: CheckContext, user: str) -> dict[str, Exchange]:
    """The session ids in the user's list, each with the list exchange that showed it."""
    exchange = ctx.client.list(user)
    sessions = field(exchange, "sessions")
    if exchange.status != 200 or not isinstance(sessions, list):
        raise Undecided(f"precondition failed: list for {user!r} answered {describe(exchange)}")
    ids = (s.get("session_id") if isinstance(s, dict) else None for s in sessions)
    return {i: exchange for i in ids if isinstance(i, str)}
