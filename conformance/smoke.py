"""Pre-deploy smoke mode: a quick, non-destructive subset, and a clean-up that leaves the
target as it found it.

``check --smoke`` runs the clauses marked ``smoke: true`` in ``specs/clauses.yaml`` (no
concurrency bursts, no 1 MiB bodies, no fuzzing volume) with few examples per property,
then :class:`Sweeper` deletes every session the run created: also when a check failed
half-way, and also after a Ctrl-C or a SIGTERM (a CI job being cancelled).

Which sessions are the harness's: every user id the harness makes up starts with
:data:`~conformance.leftovers.HARNESS_USERS`, so for those users every session the list route shows is deleted
(this finds sessions whose create response never arrived, and sessions a faulty target
made on its own). For any other user id seen in the traffic, only the session ids the
harness saw created are deleted: a smoke run against staging never touches a real user's
sessions. Afterwards the sweep lists again and reports what remains.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from conformance import interruption
from conformance.client import ContractClient
from conformance.leftovers import HARNESS_USERS
from conformance.records import Exchange
from conformance.runner import UnknownClause, select
from conformance.target import TargetError

#: Every user id the harness makes up starts with this (``sc-user-…``, ``sc-preflight``).
#: Examples per property-based probe in smoke mode, unless ``--max-examples`` says otherwise.
SMOKE_MAX_EXAMPLES = 5
#: Parallel requests while sweeping (listing users, deleting sessions).
SWEEP_WORKERS = 8

Key = tuple[str, str]


def smoke_clause_ids(requested: Sequence[str] = ()) -> list[str]:
    """The smoke subset, or the requested clauses after checking they all belong to it."""
    smoke = [clause.id for clause in select(None) if clause.smoke]
    if not requested:
        return smoke
    outside = [cid for cid in requested if cid.upper() not in smoke]
    if outside:
        raise UnknownClause(
            f"{', '.join(outside)} not in the smoke subset (drop --smoke to run it; "
            "`session-conformance clauses --smoke` lists the subset)"
        )
    return list(requested)


@dataclass(frozen=True, slots=True)
class Sweep:
    """What the clean-up did."""

    users: int
    deleted: tuple[Key, ...]
    remaining: tuple[Key, ...]
    problems: tuple[str, ...] = ()
    interrupted: bool = False

    @property
    def clean(self) -> bool:
        return not (self.remaining or self.problems or self.interrupted)

    def note(self) -> str:
        head = (
            f"smoke clean-up: deleted {len(self.deleted)} session(s) the run left "
            f"behind, over {self.users} user(s)"
        )
        if self.clean:
            return f"{head}; none remain"
        parts = [head]
        if self.interrupted:
            parts.append("interrupted before it finished")
        if self.remaining:
            shown = ", ".join(f"{user}/{session}" for user, session in self.remaining[:10])
            more = f" and {len(self.remaining) - 10} more" if len(self.remaining) > 10 else ""
            parts.append(f"{len(self.remaining)} remain: {shown}{more}")
        parts += list(self.problems[:5])
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Traffic:
    """Who and what the harness named in its requests."""

    users: frozenset[str]
    created: frozenset[Key]


class Sweeper:
    """Deletes every session a run created on ``client``'s target (see the module doc)."""

    def __init__(self, client: ContractClient) -> None:
        self.client = client
        self._seen = TrafficSeen(client)
        client.target.recording.listen(self._seen)
        self.done: Sweep | None = None

    def sweep(self) -> Sweep:
        traffic = self._seen.traffic()
        problems: list[str] = []
        deleted: list[Key] = []
        remaining: list[Key] = []
        owned = sorted(u for u in traffic.users if u.startswith(HARNESS_USERS))
        try:
            with interruption.acting():  # also after an interrupt: a signal cuts it short
                if not self.client.profile.has("delete"):
                    problems.append("the profile has no delete route: nothing could be deleted")
                    remaining = sorted(traffic.created)
                else:
                    candidates = set(traffic.created) | self._listed(owned, problems)
                    deleted = self._delete(sorted(candidates), problems)
                    remaining = sorted(self._listed(owned, problems) | self._alive(traffic, owned))
        except KeyboardInterrupt:
            self.done = Sweep(len(traffic.users), tuple(deleted), (), tuple(problems), True)
            return self.done
        self.done = Sweep(len(traffic.users), tuple(deleted), tuple(remaining), tuple(problems))
        return self.done

    def _listed(self, users: Sequence[str], problems: list[str]) -> set[Key]:
        if not self.client.profile.has("list"):
            return set()
        with ThreadPoolExecutor(SWEEP_WORKERS) as pool:
            answers = list(pool.map(self._list_one, users))
        found: set[Key] = set()
        for user, ids, problem in answers:
            found |= {(user, session_id) for session_id in ids}
            if problem:
                problems.append(problem)
        return found

    def _list_one(self, user: str) -> tuple[str, list[str], str | None]:
        try:
            exchange = self.client.list(user)
        except TargetError as exc:
            return user, [], f"could not list the sessions of {user}: {exc}"
        status = exchange.status or 0
        if status in (400, 404, 422):  # a user id the target refuses holds no session
            return user, [], None
        body = exchange.body_json()
        sessions = body.get("sessions") if isinstance(body, dict) else None
        if status != 200 or not isinstance(sessions, list):
            return user, [], f"could not list the sessions of {user}: got {status}"
        ids = [s.get("session_id") for s in sessions if isinstance(s, dict)]
        return user, [i for i in ids if isinstance(i, str)], None

    def _delete(self, keys: Sequence[Key], problems: list[str]) -> list[Key]:
        def delete(key: Key) -> tuple[Key, int | None, str | None]:
            try:
                exchange = self.client.delete(*key)
            except TargetError as exc:
                return key, None, str(exc)
            return key, exchange.status, None

        with ThreadPoolExecutor(SWEEP_WORKERS) as pool:
            answers = list(pool.map(delete, keys))
        deleted = []
        for key, status, error in answers:
            if status in (200, 204):
                deleted.append(key)
            elif status != 404:  # 404: the run had deleted it already
                problems.append(f"delete of {key[0]}/{key[1]} answered {status or error}")
        return deleted

    def _alive(self, traffic: Traffic, owned: Sequence[str]) -> set[Key]:
        """Created sessions of users the harness did not make up, still answering get."""
        others = [key for key in traffic.created if key[0] not in owned]
        if not others or not self.client.profile.has("get"):
            return set()
        alive = set()
        for key in others:
            with contextlib.suppress(TargetError):
                if self.client.get(*key).status == 200:
                    alive.add(key)
        return alive


class TrafficSeen:
    """Who and what the harness named in its requests, gathered exchange by exchange: a
    listener of the target's :class:`~conformance.recording.Recording`, so that a run of
    any length is swept without keeping its exchanges."""

    def __init__(self, client: ContractClient) -> None:
        self._client = client
        self._base = urlsplit(client.target.base_url).path.rstrip("/")
        self._routes = [
            (role, route.method, _template(route.template)) for role, route in client.profile.routes
        ]
        self._lock = threading.Lock()
        self._users: set[str] = set()
        self._created: set[Key] = set()

    def __call__(self, exchange: Exchange) -> None:
        request = exchange.request
        path = urlsplit(request.url).path
        base = self._base
        path = path[len(base) :] if base and path.startswith(base) else path
        users: set[str] = set()
        created: set[Key] = set()
        for role, method, pattern in self._routes:
            match = pattern.fullmatch(path)
            if match is None or "user_id" not in match.groupdict():
                continue
            user = unquote(match["user_id"])
            users.add(user)
            if role == "create" and request.method == method and exchange.status in (200, 201):
                session_id = self._client.created_id(exchange)
                if session_id is not None:
                    created.add((user, session_id))
        body_user = _run_body_user(request.body)
        if body_user is not None:
            users.add(body_user)
        with self._lock:
            self._users |= users
            self._created |= created

    def traffic(self) -> Traffic:
        with self._lock:
            return Traffic(frozenset(self._users), frozenset(self._created))


def harness_traffic(client: ContractClient, exchanges: Sequence[Exchange]) -> Traffic:
    """Every user id in the requests' paths and run bodies, and every session a create
    (or a client-chosen id) is known to have made."""
    seen = TrafficSeen(client)
    for exchange in exchanges:
        seen(exchange)
    return seen.traffic()


def _template(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    pattern = pattern.replace(re.escape("{user_id}"), "(?P<user_id>[^/]+)")
    pattern = pattern.replace(re.escape("{session_id}"), "(?P<session_id>[^/]+)")
    return re.compile(pattern)


def _run_body_user(body: bytes) -> str | None:
    if not body.startswith(b"{") or b'"user_id"' not in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    user = data.get("user_id") if isinstance(data, dict) else None
    return user if isinstance(user, str) and user else None


@contextlib.contextmanager
def cleaning_up(sweeper: Sweeper | None, say: Callable[[str], None]) -> Iterator[None]:
    """Around a smoke run: if the run ended without sweeping (an interrupt outside the
    clause loop), sweep on the way out and ``say`` so. (SIGTERM ends a run like Ctrl-C:
    :mod:`conformance.interruption`.)"""
    if sweeper is None:
        yield
        return
    try:
        yield
    finally:
        if sweeper.done is None:
            say(sweeper.sweep().note())
