"""Hostile requests: odd requests a backend must survive with a 4xx envelope.

A :class:`Hostile` request goes to one role's route (or to no route at all) with a
method, ids, a media type and a body drawn to be odd: any bytes, any JSON, invalid
bodies from :mod:`conformance.mutations`, ids that are sentinels, blank, non-ASCII or
full of punctuation, media types from nowhere, sometimes no token. Nothing it sends
can find a real session (fresh users, prefixed odd users), so :attr:`Hostile.must_fail`
says exactly when no conformant answer is a success.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

from hypothesis import strategies as st

from conformance.client import encode, run_body
from conformance.context import CheckContext
from conformance.generation import component, json_values, matches
from conformance.mutations import invalid_bodies
from conformance.profile import Profile
from conformance.records import Exchange

#: Ids that clients really send by mistake, besides any text.
ODD_IDS = ("undefined", " null ", "[object Object]", "%2F", "a b", "é", "../x", "' OR 1=1 --")
#: Methods whose requests carry a body.
BODY_METHODS = ("POST", "PUT", "PATCH")
#: Methods a hostile request may use (HEAD answers carry no body; OPTIONS is CORS's).
PROBE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True, slots=True)
class Hostile:
    """One odd request: a role's route (or no route), a method, ids, a media type, a body.

    ``None`` ids are minted fresh when sent (a new user, a never-created session)."""

    role: str | None
    method: str
    user: str | None
    session_id: str | None
    media_type: str | None
    body: bytes | None
    auth: bool
    #: No conformant answer can be a success: nothing exists to find, or the method or
    #: token is wrong.
    must_fail: bool = True

    def describe(self) -> str:
        where = self.role or "an unknown route"
        ids = f" user={self.user!r}" if self.user is not None else ""
        ids += f" session={self.session_id!r}" if self.session_id is not None else ""
        body = "no body" if self.body is None else f"body {self.body[:60]!r}"
        kind = self.media_type or "no Content-Type"
        token = "" if self.auth else ", no token"
        return f"{self.method} on {where}{ids} with {body} ({kind}{token})"


def hostile_requests(profile: Profile, *, with_auth: bool) -> st.SearchStrategy[Hostile]:
    """Odd requests to every route of ``profile`` and to no route, each mostly plausible
    and odd in one or two ways; ``with_auth``: a few without the token."""
    roles: list[str | None] = [None, *(name for name, _ in profile.routes)]
    odd_text = st.text(min_size=1, max_size=24).filter(lambda s: s not in (".", ".."))
    odd_ids = odd_text | st.sampled_from(ODD_IDS)
    ids = st.one_of(st.none(), st.none(), odd_ids)
    media = st.one_of(
        st.just("application/json"),
        st.just("application/json"),
        st.sampled_from(["text/plain", None, "application/json; charset=latin-1"]),
        st.from_regex(r"[a-z]{1,8}/[a-z0-9.+-]{1,12}", fullmatch=True),
    )
    bodies = st.one_of(
        st.tuples(odd_ids, odd_ids).map(lambda p: encode(run_body(_unused(p[0]), p[1]))),
        st.sampled_from(["CreateSession", "RunRequest"])
        .flatmap(invalid_bodies)
        .map(lambda m: encode(m.body)),
        json_values().map(encode),
        st.binary(max_size=64),
        st.none(),
    )
    auth = st.sampled_from([True] * 7 + [False]) if with_auth else st.just(True)

    def build(role: str | None) -> st.SearchStrategy[Hostile]:
        method = profile.route(role).method if role is not None else "GET"
        served = profile.methods_at(profile.route(role).template) if role else frozenset()
        return st.builds(
            Hostile,
            role=st.just(role),
            method=st.sampled_from([method] * 5 + list(PROBE_METHODS)),
            user=ids,
            session_id=ids,
            media_type=media,
            body=bodies,
            auth=auth,
        ).map(lambda h: _settled(h, served))

    return st.sampled_from(roles).flatmap(build)


def usual_suspects(profile: Profile) -> list[Hostile]:
    """The odd ids clients really send, each as a path's user id, as a path's session id
    and in a run body."""
    in_path = [name for name, route in profile.routes if "{user_id}" in route.template]
    found: list[Hostile] = []
    for index, odd in enumerate(ODD_IDS):
        for shift, (user, session) in enumerate(((odd, None), (None, odd))):
            if not in_path:
                break
            role = in_path[(index + shift) % len(in_path)]
            route = profile.route(role)
            body = encode({}) if route.method in BODY_METHODS else None
            plain = Hostile(role, route.method, user, session, "application/json", body, True)
            found.append(_settled(plain, profile.methods_at(route.template)))
        if profile.has("run"):
            body = encode(run_body(_unused(odd), odd))
            run = profile.route("run")
            found.append(Hostile("run", run.method, None, None, "application/json", body, True))
    return found


def _settled(request: Hostile, served: frozenset[str]) -> Hostile:
    """The request as sent (no body on GET or DELETE) and whether it must fail."""
    must_fail = request.role not in ("create", "list") or not request.auth
    return replace(
        request,
        body=request.body if request.method in BODY_METHODS else None,
        must_fail=must_fail or request.method not in served,
    )


def send_hostile(ctx: CheckContext, request: Hostile) -> Exchange:
    """Send one hostile request (minting what it leaves to be minted); a session it
    created by accident is tracked for clean-up."""
    user = _unused(request.user) if request.user is not None else ctx.new_user()
    if request.role is None:
        path = f"/sc-nowhere-{quote(request.session_id or 'x', safe='')}"
    else:
        path = ctx.client.profile.route(request.role).path(
            user_id=user,
            session_id=request.session_id
            if request.session_id is not None
            else ctx.new_session_id(),
        )
    headers = {} if request.media_type is None else {"Content-Type": request.media_type}
    body = request.body if request.method in BODY_METHODS else None
    exchange = ctx.client.send(
        request.method, path, headers=headers, content=body, auth=request.auth
    )
    if request.role == "create" and exchange.status in (200, 201):
        session_id = ctx.client.created_id(exchange)
        if session_id is not None:
            ctx.track(user, session_id)
    return exchange


def _unused(user: str) -> str:
    """An odd user id that no one uses: a valid one gets a prefix no real user has."""
    return f"sc-odd-{user}"[:128] if matches(component("UserId"), user) else user
