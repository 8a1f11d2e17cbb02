"""Auth: a declared bearer token guards every route, before any lookup (AUTH-*).

Probes send no token (``auth=False``), or an explicit ``Authorization`` header (which
wins over the configured token) carrying a wrong token or another scheme. Wrong
credentials are kept well-formed (RFC 9110 ``token68``), so that a backend answering a
*malformed* header with 400 (RFC 6750 ``invalid_request``) is never blamed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from hypothesis import strategies as st

from conformance.checks import check
from conformance.checks.cors import preflight, roles_of
from conformance.client import run_body
from conformance.context import CheckContext, Undecided
from conformance.expectations import describe, expect_error, field
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue

#: RFC 9110 ``token68``: what a bearer credential may look like on the wire.
TOKEN68 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
#: One challenge of a ``WWW-Authenticate`` value whose scheme is Bearer (any case).
BEARER_CHALLENGE = re.compile(r"(?:^|,)\s*bearer(?=$|[\s,])", re.IGNORECASE)
_TCHAR = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class _Routes:
    """A user and one of its sessions (created with the token), to aim probes at."""

    def __init__(self, ctx: CheckContext) -> None:
        created = ctx.create(ctx.new_user())
        self.ctx = ctx
        self.user = created.user_id
        self.session_id = created.session_id

    def send(
        self, role: str, *, headers: Mapping[str, str] | None = None, auth: bool = True
    ) -> Exchange:
        """One request for ``role`` that only the credentials could make fail."""
        ctx, user = self.ctx, self.user
        body: JSONValue = {} if role == "create" else None
        if role in ("run", "run_stream"):
            body = run_body(user, self.session_id)
            return ctx.client.call(role, body=body, headers=headers, auth=auth)
        exchange = ctx.client.call(
            role, user_id=user, session_id=self.session_id, body=body, headers=headers, auth=auth
        )
        created = ctx.client.created_id(exchange) if role == "create" else None
        if created is not None:
            ctx.track(user, created)  # the target let the create through: clean up
        return exchange


def expect_unauthorized(exchange: Exchange, why: str) -> Finding | None:
    """401 UNAUTHORIZED in the envelope, with a Bearer challenge in ``WWW-Authenticate``."""
    finding = expect_error(exchange, 401, "UNAUTHORIZED", why)
    if finding is not None:
        return finding
    assert exchange.response is not None
    challenge = exchange.response.header("www-authenticate")
    if challenge is None or not BEARER_CHALLENGE.search(challenge):
        return Finding(
            f"{why}: the 401 carries WWW-Authenticate {challenge!r}",
            "WWW-Authenticate naming the Bearer scheme (RFC 9110, RFC 6750)",
            exchange,
        )
    return None


def _ordered(ctx: CheckContext) -> tuple[str, ...]:
    """The profile's roles with delete last, so a delete let through ends nothing early."""
    roles = roles_of(ctx)
    return tuple(r for r in roles if r != "delete") + tuple(r for r in roles if r == "delete")


def _token(ctx: CheckContext) -> str:
    token = ctx.settings.token
    assert token is not None, "the runner runs auth clauses only with a token"
    return token


@check("AUTH-001")
def every_route_needs_the_token(ctx: CheckContext) -> Iterator[Finding]:
    routes = _Routes(ctx)
    for role in _ordered(ctx):
        finding = expect_unauthorized(routes.send(role, auth=False), f"{role} without a token")
        if finding is not None:
            yield finding


@check("AUTH-002")
def wrong_token_or_scheme_is_401(ctx: CheckContext) -> Iterator[Finding]:
    token = _token(ctx)
    routes = _Routes(ctx)
    roles = _ordered(ctx)
    # Every route once with a wrong bearer token ...
    wrong = f"sc-wrong-{ctx.rng.getrandbits(48):012x}"
    for role in roles:
        exchange = routes.send(role, headers={"Authorization": f"Bearer {wrong}"})
        finding = expect_unauthorized(exchange, f"{role} with a wrong bearer token")
        if finding is not None:
            yield finding
            return

    def probe(case: tuple[str, str]) -> Finding | None:
        role, credential = case
        exchange = routes.send(role, headers={"Authorization": credential})
        shown = ctx.client.target.redactor.header("Authorization", credential)  # no secret
        return expect_unauthorized(exchange, f"{role} with Authorization: {shown!r}")

    # ... each near miss of the real credential once (a lax comparison lets one through) ...
    live = tuple(r for r in roles if r != "delete")
    for number, credential in enumerate(_near_misses(token)):
        finding = probe((live[number % len(live)], credential))
        if finding is not None:
            yield finding
            return
    # ... then a property over routes and the many ways a credential can be wrong.
    cases = st.tuples(st.sampled_from(live), _wrong_credentials(token))
    yield from for_all(ctx, cases, probe, max_examples=min(ctx.settings.max_examples, 20))


@check("AUTH-003")
def bearer_scheme_is_case_insensitive(ctx: CheckContext) -> Iterator[Finding]:
    token = _token(ctx)
    user = ctx.new_user()
    roles = tuple(r for r in ("list", "create") if ctx.client.profile.has(r))
    baseline = ctx.client.call(
        roles[0],
        user_id=user,
        body={} if roles[0] == "create" else None,
        headers={"Authorization": f"Bearer {token}"},
    )
    _track_create(ctx, user, baseline)
    if baseline.status not in (200, 201):
        raise Undecided(
            f"precondition failed: {roles[0]} with 'Bearer <token>' answered "
            f"{describe(baseline)} (is the token right?)"
        )

    def probe(case: tuple[str, str]) -> Finding | None:
        role, scheme = case
        headers = {"Authorization": f"{scheme} {token}"}
        body: JSONValue = {} if role == "create" else None
        exchange = ctx.client.call(role, user_id=user, body=body, headers=headers)
        _track_create(ctx, user, exchange)
        expected = 201 if role == "create" else 200
        if exchange.status == expected:
            return None
        return Finding(
            f"{role} with the scheme written {scheme!r} and the right token: "
            f"got {describe(exchange)}",
            f"{expected}, as with 'Bearer': the scheme is matched case-insensitively (RFC 9110)",
            exchange,
        )

    for scheme in ("bearer", "BEARER"):
        for role in roles:
            finding = probe((role, scheme))
            if finding is not None:
                yield finding
                return
    cases = st.tuples(st.sampled_from(roles), _casings("bearer"))
    yield from for_all(ctx, cases, probe, max_examples=min(ctx.settings.max_examples, 8))


@check("AUTH-004")
def auth_comes_before_lookups(ctx: CheckContext) -> Iterator[Finding]:
    routes = _Routes(ctx)
    missing = ctx.new_session_id()
    wrong = {"Authorization": f"Bearer sc-wrong-{ctx.rng.getrandbits(48):012x}"}
    for label, headers in (("no token", None), ("a wrong token", wrong)):

        def get(session_id: str, headers: Mapping[str, str] | None = headers) -> Exchange:
            return ctx.client.call(
                "get", user_id=routes.user, session_id=session_id, headers=headers, auth=False
            )

        existing, absent = get(routes.session_id), get(missing)
        finding = expect_error(
            absent, 401, "UNAUTHORIZED", f"get of never-created {missing!r} with {label}"
        )
        if finding is not None:
            yield finding
            continue
        if (existing.status, field(existing, "error")) != (absent.status, field(absent, "error")):
            yield Finding(
                f"with {label}, get of an existing session answered {describe(existing)} but "
                f"of a never-created one {describe(absent)}: the 401 reveals which ids exist",
                "the same 401 UNAUTHORIZED for an existing and a never-created session",
                existing,
                steps=(existing, absent),
            )


@check("AUTH-005")
def preflight_needs_no_token(ctx: CheckContext) -> Iterator[Finding]:
    origin = ctx.settings.cors_origin
    assert origin is not None, "the runner runs AUTH-005 only with a CORS origin"
    for role in roles_of(ctx):
        exchange = preflight(ctx, role, origin)
        allowed = (
            exchange.response.header("access-control-allow-origin") if exchange.response else None
        )
        if exchange.status is not None and 200 <= exchange.status < 300 and allowed == origin:
            continue
        yield Finding(
            f"preflight for {role} from {origin}, without a token (as browsers send it): "
            f"got {describe(exchange)} with Access-Control-Allow-Origin {allowed!r}",
            f"a successful preflight (2xx, Access-Control-Allow-Origin: {origin}), never 401",
            exchange,
        )


def _track_create(ctx: CheckContext, user: str, exchange: Exchange) -> None:
    created = ctx.client.created_id(exchange)
    if created is not None and exchange.request.method == "POST":
        ctx.track(user, created)


def _casings(word: str) -> st.SearchStrategy[str]:
    flips = st.lists(st.booleans(), min_size=len(word), max_size=len(word))
    return flips.map(
        lambda up: "".join(c.upper() if u else c for c, u in zip(word, up, strict=True))
    )


def _near_misses(token: str) -> list[str]:
    """Well-formed ``Authorization`` values one step from the real one: the token with a
    character more or less, in another case, doubled; under another scheme; bare."""
    tokens = [token + "x", "x" + token, token[:-1], token.swapcase(), token + token]
    credentials = [f"Bearer {t}" for t in tokens if _is_wrong_token68(t, token)]
    credentials += [f"Basic {token}", f"Token {token}"]
    if _TCHAR.fullmatch(token):  # the bare token, alone or glued to the scheme
        credentials += [token, f"Bearer{token}"]
    return credentials


def _is_wrong_token68(candidate: str, token: str) -> bool:
    return candidate != token and re.fullmatch(f"[{re.escape(TOKEN68)}]+=*", candidate) is not None


def _wrong_credentials(token: str) -> st.SearchStrategy[str]:
    """Well-formed ``Authorization`` values that must not pass: random bearer tokens, the
    real or a random token under other schemes, and the near misses."""
    token68 = st.text(TOKEN68, min_size=1, max_size=40)
    schemes = st.sampled_from(["Basic", "Token", "Digest", "ApiKey", "Bearerx", "Bear"])
    return st.one_of(
        token68.filter(lambda t: _is_wrong_token68(t, token)).map(lambda t: f"Bearer {t}"),
        st.tuples(schemes, st.one_of(st.just(token), token68)).map(lambda p: f"{p[0]} {p[1]}"),
        st.sampled_from(_near_misses(token)),
    )
