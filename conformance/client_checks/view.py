"""A trace seen in the protocol's terms: each exchange as a :class:`Step` (which role it
played, for which user and session, what the client was told), grouped by session.

Everything here is derived from the raw requests and responses through the profile the
client spoke (:func:`conformance.observed.observe`: the role from method and path, the
ids from wherever the layout keeps them, each answer's canonical view), so the checks
read every layout in the contract's terms; nothing trusts what the mock thought. In a
layout without users every session belongs to the one user ``""``.
"""

from __future__ import annotations

import dataclasses
import email.utils
from collections.abc import Iterator
from dataclasses import dataclass

from conformance.mock.layout import PREFLIGHT, Layout, is_sentinel
from conformance.mock.trace import Trace, TraceExchange
from conformance.observed import observe
from conformance.profile import Profile
from conformance.records import Exchange, JSONValue

#: The phases after which a session never changes.
FINAL_PHASES = frozenset({"Ready", "Failed"})
#: The header in which a client states its deadline for a session to become ready.
DEADLINE_HEADER = "x-client-deadline-ms"

SessionKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Step:
    """One exchange of the trace, classified."""

    item: TraceExchange
    role: str | None
    user_id: str | None
    session_id: str | None
    #: The id the answer handed out, if it was a create answered 2xx (read through the
    #: profile: :attr:`conformance.observed.Seen.created_id`).
    created: str | None = None

    @property
    def started(self) -> float:
        return self.item.started

    @property
    def ended(self) -> float:
        return self.item.ended

    @property
    def exchange(self) -> Exchange:
        return self.item.exchange

    @property
    def status(self) -> int | None:
        return self.item.exchange.status

    @property
    def key(self) -> SessionKey | None:
        """``(user, session)`` when the request names a real-looking session."""
        if self.user_id is None or self.session_id is None or is_sentinel(self.session_id):
            return None
        return (self.user_id, self.session_id)

    def body(self) -> JSONValue | None:
        return self.item.exchange.body_json()

    def field(self, *names: str) -> JSONValue | None:
        value = self.body()
        for name in names:
            if not isinstance(value, dict):
                return None
            value = value.get(name)
        return value

    @property
    def created_id(self) -> str | None:
        """For a successful create: the session id the response handed to the client."""
        if self.role != "create" or self.status not in (200, 201):
            return None
        return self.created

    @property
    def phase(self) -> str | None:
        """The phase this response showed the client (status, get and create answers)."""
        if self.status not in (200, 201):
            return None
        value = self.field("phase") if self.role == "status" else self.field("session", "phase")
        return value if isinstance(value, str) else None

    @property
    def retry_after(self) -> float | None:
        """Seconds a ``Retry-After`` header asked the client to wait (delta or HTTP-date)."""
        response = self.item.exchange.response
        value = None if response is None else response.header("retry-after")
        if value is None:
            return None
        value = value.strip()
        if value.isdigit():
            return float(value)
        when = _http_date(value)
        date = _http_date(response.header("date") or "") if response is not None else None
        if when is None or date is None:
            return None
        return max(0.0, when - date)

    def request_header(self, name: str) -> str | None:
        return self.item.exchange.request.header(name)

    def describe(self) -> str:
        """``status poll of 'abc' (user 'u') at 1.234 s``."""
        what = {
            "create": "create",
            "get": "get",
            "delete": "delete",
            "status": "status poll",
            "run": "run",
            "run_stream": "streamed run",
            "list": "list",
        }.get(self.role or "", f"{self.item.request.method} request")
        sid = f" of {self.session_id!r}" if self.session_id is not None else ""
        user = f" (user {self.user_id!r})" if self.user_id else ""
        return f"{what}{sid}{user} at {self.started:.3f} s"


class TraceView:
    """The steps of a trace, in the order the requests arrived."""

    def __init__(self, trace: Trace, profile: Profile) -> None:
        self.trace = trace
        self.layout = Layout(profile)
        timed = tuple((item.started, item.exchange) for item in trace.exchanges)
        seen = observe(timed, profile, trace.header.base_url)
        steps: list[Step] = []
        for item, read in zip(trace.exchanges, seen, strict=True):
            role = PREFLIGHT if item.request.method.upper() == "OPTIONS" else read.role
            user = read.user_id
            if role not in (None, PREFLIGHT) and not profile.users:
                user = ""
            item = dataclasses.replace(item, exchange=read.exchange)
            steps.append(Step(item, role, user, read.session_id, read.created_id))
        self.steps = tuple(steps)

    def of_role(self, *roles: str) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.role in roles)

    def protocol_steps(self) -> tuple[Step, ...]:
        """Every step but CORS preflights (the browser sends those, not the client code)."""
        return tuple(step for step in self.steps if step.role != PREFLIGHT)

    def creates(self) -> tuple[Step, ...]:
        """Successful creates, each with the id it handed out."""
        return tuple(step for step in self.of_role("create") if step.created_id is not None)

    def created_keys(self) -> dict[SessionKey, Step]:
        """Each session a create handed out, keyed ``(user, id)``, to that create."""
        found: dict[SessionKey, Step] = {}
        for step in self.creates():
            assert step.created_id is not None
            if step.user_id is not None:
                found.setdefault((step.user_id, step.created_id), step)
        return found

    def by_session(self, *roles: str) -> dict[SessionKey, list[Step]]:
        """The steps of ``roles`` naming each session, in arrival order."""
        groups: dict[SessionKey, list[Step]] = {}
        for step in self.of_role(*roles):
            if step.key is not None:
                groups.setdefault(step.key, []).append(step)
        return groups

    def polls(self) -> dict[SessionKey, list[Step]]:
        """Status polls per session (a poll is a request to the status role)."""
        return self.by_session("status")

    def observations(self, key: SessionKey) -> Iterator[Step]:
        """Every answer that showed the client the phase of ``key`` (create, get, status)."""
        user, sid = key
        for step in self.steps:
            if step.phase is None:
                continue
            if (step.role == "create" and step.user_id == user and step.created_id == sid) or (
                step.role in ("get", "status") and step.key == key
            ):
                yield step


def _http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
