"""A client's sessions from create to delete: run only once Ready (CLIENT-003), one
session per conversation (CLIENT-010), delete what it created (CLIENT-011).

Only sessions a create returned are judged here; a run on an id the client made up is
CLIENT-002's to report.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.client_checks import client_check
from conformance.client_checks.context import ClientCheckContext
from conformance.client_checks.view import SessionKey, Step
from conformance.context import NotApplicable
from conformance.records import Finding

RUN_ROLES = ("run", "run_stream")


def _runs_of_created(ctx: ClientCheckContext) -> list[Step]:
    created = ctx.view.created_keys()
    return [s for s in ctx.view.of_role(*RUN_ROLES) if s.key is not None and s.key in created]


@client_check("CLIENT-003")
def runs_only_when_ready(ctx: ClientCheckContext) -> Iterator[Finding]:
    runs = _runs_of_created(ctx)
    if not runs:
        raise NotApplicable("the client ran no session that a create had returned")
    for run in runs:
        assert run.key is not None
        ctx.judge(run)
        seen = [o for o in ctx.view.observations(run.key) if o.ended <= run.started]
        if any(o.phase == "Ready" for o in seen):
            continue
        if seen:
            last = seen[-1]
            told = f"the last answer before it ({last.describe()}) showed {last.phase}"
            if last.phase == "Failed":
                told = f"{last.describe()} had shown the session Failed"
            yield ctx.finding(
                f"{run.describe()} before the session was Ready: {told}",
                "a run only after a status (or get) answer showed ready: true",
                run,
                last,
            )
        else:
            yield ctx.finding(
                f"{run.describe()} before any answer had shown the session Ready "
                "(the client never waited for provisioning)",
                "a run only after a status (or get) answer showed ready: true",
                run,
            )


@client_check("CLIENT-010")
def reuses_the_session(ctx: ClientCheckContext) -> Iterator[Finding]:
    runs = _runs_of_created(ctx)
    by_user: dict[str, dict[SessionKey, list[Step]]] = {}
    for run in runs:
        assert run.key is not None
        assert run.user_id is not None
        by_user.setdefault(run.user_id, {}).setdefault(run.key, []).append(run)
    judged = {user: sessions for user, sessions in by_user.items() if _count(sessions) > 1}
    if not judged:
        raise NotApplicable(
            "no user ran more than once: the trace holds no multi-turn conversation"
        )
    for user, sessions in judged.items():
        for steps in sessions.values():
            ctx.judge(*steps)
        if len(sessions) > 1 and all(len(steps) == 1 for steps in sessions.values()):
            ordered = sorted((steps[0] for steps in sessions.values()), key=lambda s: s.started)
            yield ctx.finding(
                f"user {user!r} sent {len(ordered)} messages on {len(sessions)} sessions, one "
                "each: the client creates a session per message, so no turn sees the ones "
                "before it",
                "the second and later messages of a conversation sent on the session the "
                "first one used (its turns count grows)",
                ordered[-1],
                *ordered[:-1],
            )


def _count(sessions: dict[SessionKey, list[Step]]) -> int:
    return sum(len(steps) for steps in sessions.values())


@client_check("CLIENT-011")
def deletes_what_it_created(ctx: ClientCheckContext) -> Iterator[Finding]:
    created = ctx.view.created_keys()
    if not created:
        raise NotApplicable("the client created no session")
    deletes = ctx.view.by_session("delete")
    for key, create in created.items():
        ctx.judge(create)
        if not any(d.started >= create.ended for d in deletes.get(key, [])):
            user, sid = key
            yield ctx.finding(
                f"session {sid!r} (user {user!r}), created at {create.started:.3f} s, was "
                "never deleted: it lingers until it expires",
                "a DELETE of every session the client created, once it is done with it",
                create,
            )
