"""Isolation: one user can never see, poll, run or delete another user's session (ISO-*).

Every check has an owner create a session and then lets *other* users at it. The other
users are drawn by a property: fresh users, and the near misses a sloppy ownership test
lets through — the owner's id in another case (user ids are matched exactly), with a
suffix added or its last character dropped (prefix matching). Each must get 404
``SESSION_NOT_FOUND``, exactly as if the session did not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from hypothesis import strategies as st

from conformance.checks import check
from conformance.checks.sentinels import SENTINELS
from conformance.context import CheckContext, Undecided
from conformance.expectations import describe, expect_error, field
from conformance.leftovers import HARNESS_USERS
from conformance.properties import for_all
from conformance.records import Exchange, Finding

NOT_FOUND = "SESSION_NOT_FOUND"
#: Unrelated users probed per clause by the property, after the near misses.
OTHERS = 6


@check("ISO-001")
def other_users_get_is_404(ctx: CheckContext) -> Iterator[Finding]:
    yield from _probe_role(ctx, "get")


@check("ISO-002")
def other_users_status_is_404(ctx: CheckContext) -> Iterator[Finding]:
    yield from _probe_role(ctx, "status")


@check("ISO-003")
def other_users_run_is_404_and_no_turn(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.ready()
    owner, session_id = created.user_id, created.session_id

    def probe(other: str) -> Finding | None:
        exchange = ctx.client.run(other, session_id)
        return _expect_hidden(exchange, f"run by user {other!r} on a session of user {owner!r}")

    yield from _for_others(ctx, owner, probe)
    got = ctx.client.get(owner, session_id)
    turns = field(got, "session", "turns")
    if got.status != 200 or not isinstance(turns, int):
        raise Undecided(f"could not read the session's turns back: {describe(got)}")
    if turns != 0:
        yield Finding(
            f"after only other users' runs (all to be refused), session.turns is {turns}",
            "turns == 0: a refused run is not a turn",
            got,
        )


@check("ISO-004")
def other_users_delete_is_404_and_session_survives(ctx: CheckContext) -> Iterator[Finding]:
    owner = ctx.new_user()

    def probe(other: str) -> Finding | None:
        created = ctx.create(owner)  # a fresh session per probe: a wrong delete is one probe's
        deleted = ctx.client.delete(other, created.session_id)
        finding = _expect_hidden(
            deleted, f"delete by user {other!r} of a session of user {owner!r}"
        )
        if finding is not None:
            return finding
        got = ctx.client.get(owner, created.session_id)
        if got.status != 200 or field(got, "session", "session_id") != created.session_id:
            return Finding(
                f"after a delete by user {other!r} was refused, the owner's get answered "
                f"{describe(got)}",
                "the session survives: the owner's get answers 200",
                got,
                steps=(created.exchange, deleted, got),
            )
        return None

    yield from _for_others(ctx, owner, probe)


@check("ISO-005")
def list_holds_only_own_sessions(ctx: CheckContext) -> Iterator[Finding]:
    owner, neighbour = ctx.new_user(), ctx.new_user()
    mine = {ctx.create(owner).session_id for _ in range(2)}
    theirs = {ctx.create(neighbour).session_id for _ in range(2)}
    for user, own, foreign in ((owner, mine, theirs), (neighbour, theirs, mine)):
        listed = ctx.client.list(user)
        if listed.status != 200 or not isinstance(field(listed, "sessions"), list):
            raise Undecided(f"precondition failed: list for {user!r} answered {describe(listed)}")
        finding = _foreign_entries(listed, user, foreign)
        if finding is not None:
            yield finding
            return
        if not own <= _ids(listed):
            raise Undecided(f"the list of {user!r} lacks its own sessions: {describe(listed)}")

    def probe(other: str) -> Finding | None:
        listed = ctx.client.list(other)
        if listed.status != 200:
            return None  # no list at all shows no one's sessions
        return _foreign_entries(listed, other, mine | theirs)

    yield from _for_others(ctx, owner, probe)


def _probe_role(ctx: CheckContext, role: str) -> Iterator[Finding]:
    created = ctx.create(ctx.new_user())
    owner, session_id = created.user_id, created.session_id

    def probe(other: str) -> Finding | None:
        exchange = ctx.client.call(role, user_id=other, session_id=session_id)
        return _expect_hidden(exchange, f"{role} by user {other!r} of a session of user {owner!r}")

    yield from _for_others(ctx, owner, probe)


def _near_misses(owner: str) -> list[str]:
    """Valid user ids a sloppy ownership test confuses with ``owner``."""
    near = [
        owner.swapcase(),
        owner[:1].swapcase() + owner[1:],
        owner + "x",
        owner + ".",
        owner[:-1],
    ]
    return [user for user in dict.fromkeys(near) if user != owner and _usable(user)]


def _strangers(owner: str) -> st.SearchStrategy[str]:
    """Unrelated valid user ids of every shape the pattern allows (shrinking to the
    shortest), all in the harness's own ``sc-`` namespace: on a shared staging backend a
    probe never reads, runs or deletes as a user who may be real."""
    suffixes = st.from_regex(r"[A-Za-z0-9_.@-]{1,28}", fullmatch=True)
    return suffixes.map(lambda suffix: f"{HARNESS_USERS}{suffix}").filter(
        lambda user: user != owner and _usable(user)
    )


def _usable(user: str) -> bool:
    """Not a sentinel-looking id, which a backend may refuse for reasons of its own."""
    return user.strip().lower() not in SENTINELS


def _for_others(
    ctx: CheckContext, owner: str, probe: Callable[[str], Finding | None]
) -> Iterator[Finding]:
    """Run ``probe`` as a property over strangers, then for each near miss of ``owner``."""
    findings = list(for_all(ctx, _strangers(owner), probe, max_examples=_examples(ctx)))
    if findings:
        yield from findings
        return
    for other in _near_misses(owner):
        finding = probe(other)
        if finding is not None:
            yield finding
            return


def _expect_hidden(exchange: Exchange, why: str) -> Finding | None:
    finding = expect_error(exchange, 404, NOT_FOUND, why)
    if finding is None:
        return None
    return Finding(
        f"{finding.message} (another user's session must look as if it did not exist)",
        finding.expected,
        exchange,
        expected_status=finding.expected_status,
    )


def _ids(exchange: Exchange) -> set[str]:
    sessions = field(exchange, "sessions")
    entries = sessions if isinstance(sessions, list) else []
    return {
        value
        for value in (e.get("session_id") if isinstance(e, dict) else None for e in entries)
        if isinstance(value, str)
    }


def _foreign_entries(listed: Exchange, user: str, foreign: set[str]) -> Finding | None:
    sessions = field(listed, "sessions")
    owners = {
        entry.get("user_id")
        for entry in (sessions if isinstance(sessions, list) else [])
        if isinstance(entry, dict)
    }
    leaked = sorted(_ids(listed) & foreign)
    strangers = sorted(str(o) for o in owners - {user} if o is not None)
    if not leaked and not strangers:
        return None
    shown = f"sessions {leaked}" if leaked else f"sessions of users {strangers}"
    return Finding(
        f"the list of user {user!r} contains other users' {shown}",
        f"only sessions whose owner is {user!r}",
        listed,
    )


def _examples(ctx: CheckContext) -> int:
    return min(ctx.settings.max_examples, OTHERS)
