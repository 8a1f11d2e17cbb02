"""CORS: the declared origin is allowed everywhere, every other origin nowhere (CORS-*).

A *preflight* is what a browser sends before a cross-origin request that carries a bearer
token and a JSON body: ``OPTIONS <route path>`` with ``Origin``,
``Access-Control-Request-Method`` (the route's method) and
``Access-Control-Request-Headers: authorization, content-type``, and never a token.
Header lists (``Vary``, ``Access-Control-Allow-*``) are compared as comma-separated,
case-insensitive sets: extra values, ``Max-Age`` and ``Allow-Credentials: true`` are free.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from hypothesis import strategies as st

from conformance.checks import check
from conformance.client import run_body
from conformance.context import CheckContext
from conformance.expectations import describe
from conformance.profile import ROLES
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue

#: The headers a browser asks to send with a contract request.
REQUESTED_HEADERS = ("authorization", "content-type")
ACAO = "access-control-allow-origin"
ACAC = "access-control-allow-credentials"


# -- probes -------------------------------------------------------------------------------


def preflight(ctx: CheckContext, role: str, origin: str) -> Exchange:
    """``OPTIONS`` on ``role``'s path from ``origin``, as a browser sends it (no token)."""
    route = ctx.client.profile.route(role)
    return ctx.client.call(
        role,
        user_id=ctx.new_user(),
        session_id=ctx.new_session_id(),
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": route.method,
            "Access-Control-Request-Headers": ", ".join(REQUESTED_HEADERS),
        },
        auth=False,
    )


def roles_of(ctx: CheckContext) -> tuple[str, ...]:
    """The roles the target's profile has, in the contract's order."""
    return tuple(role for role in ROLES if ctx.client.profile.has(role))


def other_origin(ctx: CheckContext) -> str:
    """An origin that is not the allowed one, derived from the clause's seed."""
    return f"https://sc-{ctx.rng.getrandbits(40):010x}.example"


def header_list(exchange: Exchange, name: str) -> set[str]:
    """A comma-separated header's items, lower-cased (every occurrence of the header)."""
    value = exchange.response.header(name) if exchange.response is not None else None
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def _allowed_requests(ctx: CheckContext, origin: str) -> Iterator[tuple[str, Exchange]]:
    """Ordinary requests from ``origin``: successes and errors on the clause's roles."""
    headers = {"Origin": origin}
    client = ctx.client
    user = ctx.new_user()
    missing = ctx.new_session_id()
    created = client.create(user, {}, headers=headers)
    session_id = client.created_id(created)
    yield "create (201)", created
    if session_id is not None:
        ctx.track(user, session_id)
        if client.profile.has("get"):
            yield "get of that session (200)", client.get(user, session_id, headers=headers)
    if client.profile.has("list"):
        yield "list (200)", client.list(user, headers=headers)
    if client.profile.has("get"):
        yield "get of a never-created session (404)", client.get(user, missing, headers=headers)
    if client.profile.has("run"):
        yield "run on a never-created session (404)", client.run(user, missing, headers=headers)
        invalid: JSONValue = {**run_body(user, session_id or missing), "sc_unknown_field": 1}
        yield "run with an unknown field (422)", client.call("run", body=invalid, headers=headers)
        put = client.call("run", method="PUT", user_id=user, session_id=missing, headers=headers)
        yield "PUT on the run route (405)", put
    if ctx.settings.token is not None and client.profile.has("get"):
        yield (
            "get without the token (401)",
            client.call("get", user_id=user, session_id=missing, headers=headers, auth=False),
        )
    unknown = f"/sc-no-such-route-{ctx.rng.getrandbits(32):08x}"
    yield "an unknown route (404)", client.send("GET", unknown, headers=headers)


def _foreign_requests(ctx: CheckContext, role: str, origin: str) -> Iterator[Exchange]:
    """A preflight and an ordinary request on ``role`` from ``origin``."""
    yield preflight(ctx, role, origin)
    headers = {"Origin": origin}
    user = ctx.new_user()
    if role == "create":
        exchange = ctx.client.create(user, {}, headers=headers)
        session_id = ctx.client.created_id(exchange)
        if session_id is not None:
            ctx.track(user, session_id)
        yield exchange
    else:
        yield ctx.client.run(user, ctx.new_session_id(), headers=headers)


# -- clauses ------------------------------------------------------------------------------


@check("CORS-001")
def preflight_from_allowed_origin(ctx: CheckContext) -> Iterator[Finding]:
    origin = _origin(ctx)
    for role in roles_of(ctx):
        method = ctx.client.profile.route(role).method
        exchange = preflight(ctx, role, origin)
        problems = _preflight_problems(exchange, origin, method)
        if problems:
            yield Finding(
                f"preflight for {role} ({method}) from {origin}: {'; '.join(problems)}; "
                f"got {describe(exchange)}",
                f"204 with Access-Control-Allow-Origin: {origin}, Access-Control-Allow-Methods "
                f"naming {method}, Access-Control-Allow-Headers naming Authorization and "
                "Content-Type, and Vary: Origin",
                exchange,
            )


@check("CORS-002")
def every_response_to_allowed_origin_allows_it(ctx: CheckContext) -> Iterator[Finding]:
    origin = _origin(ctx)
    for what, exchange in _allowed_requests(ctx, origin):
        problems = _allow_problems(exchange, origin)
        if problems:
            yield Finding(
                f"{what} from {origin}: {'; '.join(problems)}; got {describe(exchange)}",
                f"Access-Control-Allow-Origin: {origin} and Vary naming Origin, errors included",
                exchange,
            )


@check("CORS-003")
def other_origins_are_not_allowed(ctx: CheckContext) -> Iterator[Finding]:
    allowed = _origin(ctx)
    roles = tuple(role for role in ("create", "run") if ctx.client.profile.has(role))

    def probe(case: tuple[str, str]) -> Finding | None:
        role, origin = case
        for exchange in _foreign_requests(ctx, role, origin):
            value = exchange.response.header(ACAO) if exchange.response is not None else None
            if value is not None:
                kind = "preflight" if exchange.request.method == "OPTIONS" else "request"
                return Finding(
                    f"{kind} for {role} from {origin} (allowed: {allowed}) got "
                    f"Access-Control-Allow-Origin: {value}",
                    "no Access-Control-Allow-Origin for an origin that is not allowed",
                    exchange,
                )
        return None

    # Every kind of near miss once (a lax matcher lets one kind through), then more.
    label = f"sc-{ctx.rng.getrandbits(24):06x}"
    for number, origin in enumerate(_near_misses(allowed, label, ctx.rng.randrange(1024, 65536))):
        finding = probe((roles[number % len(roles)], origin))
        if finding is not None:
            yield finding
            return
    cases = st.tuples(st.sampled_from(roles), _other_origins(allowed))
    yield from for_all(ctx, cases, probe, max_examples=min(ctx.settings.max_examples, 8))


@check("CORS-004")
def no_wildcard_with_credentials(ctx: CheckContext) -> Iterator[Finding]:
    allowed = _origin(ctx)
    seen: list[Exchange] = [preflight(ctx, role, allowed) for role in roles_of(ctx)]
    seen.extend(exchange for _, exchange in _allowed_requests(ctx, allowed))
    for role in ("create", "run"):
        if ctx.client.profile.has(role):
            for origin in (other_origin(ctx), "null"):
                seen.extend(_foreign_requests(ctx, role, origin))
    if ctx.client.profile.has("list"):
        seen.append(ctx.client.list(ctx.new_user()))  # no Origin at all
    for exchange in seen:
        response = exchange.response
        if response is None:
            continue
        origin_value = (response.header(ACAO) or "").strip()
        credentials = (response.header(ACAC) or "").strip().lower()
        if origin_value == "*" and credentials == "true":
            sent = exchange.request.header("origin") or "no Origin"
            yield Finding(
                f"{exchange.request.method} {exchange.request.url} ({sent}) answered "
                "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true",
                "never a wildcard origin together with credentials",
                exchange,
            )
            return


# -- judgements ---------------------------------------------------------------------------


def _preflight_problems(exchange: Exchange, origin: str, method: str) -> list[str]:
    if exchange.response is None:
        return [f"no response ({exchange.transport_error})"]
    problems = [] if exchange.status == 204 else [f"status {exchange.status}, not 204"]
    problems.extend(_allow_problems(exchange, origin))
    credentials = (exchange.response.header(ACAC) or "").strip().lower() == "true"
    wildcard_ok = not credentials  # "*" is a wildcard only for requests without credentials
    methods = header_list(exchange, "access-control-allow-methods")
    if method.lower() not in methods and not ("*" in methods and wildcard_ok):
        shown = exchange.response.header("access-control-allow-methods")
        problems.append(f"Access-Control-Allow-Methods is {shown!r}, not naming {method}")
    allowed = header_list(exchange, "access-control-allow-headers")
    missing = [
        name
        for name in REQUESTED_HEADERS
        # Fetch: "*" never covers Authorization, and nothing when credentials are allowed.
        if name not in allowed and not ("*" in allowed and wildcard_ok and name != "authorization")
    ]
    if missing:
        shown = exchange.response.header("access-control-allow-headers")
        problems.append(f"Access-Control-Allow-Headers is {shown!r}, not naming {missing}")
    return problems


def _allow_problems(exchange: Exchange, origin: str) -> list[str]:
    if exchange.response is None:
        return [f"no response ({exchange.transport_error})"]
    problems: list[str] = []
    value = exchange.response.header(ACAO)
    if value is None or value.strip() != origin:
        problems.append(f"Access-Control-Allow-Origin is {value!r}, not {origin!r}")
    vary = header_list(exchange, "vary")
    if "origin" not in vary and "*" not in vary:
        problems.append(f"Vary is {exchange.response.header('vary')!r}, not naming Origin")
    return problems


def _origin(ctx: CheckContext) -> str:
    origin = ctx.settings.cors_origin
    assert origin is not None, "the runner runs CORS clauses only with a CORS origin"
    return origin


def _near_misses(allowed: str, label: str, port: int) -> list[str]:
    """Origins that are not ``allowed`` but that a lax matcher lets through: a random one,
    ``allowed`` with a suffix, a prefix, a subdomain, another scheme or port, and ``null``."""
    parts = urlsplit(allowed)
    scheme, host = parts.scheme or "https", parts.hostname or "app.example"
    host = f"[{host}]" if ":" in host else host
    at = f":{parts.port}" if parts.port else ""
    other_scheme = "http" if scheme == "https" else "https"
    if port == parts.port:
        port = port + 1 if port < 65535 else 1024
    origins = [
        f"https://{label}.example",
        f"{scheme}://{host}.{label}.example{at}",
        f"{scheme}://{label}{host}{at}",
        f"{scheme}://{label}.{host}{at}",
        f"{other_scheme}://{host}{at}",
        f"{scheme}://{host}:{port}",
        "null",
    ]
    return [origin for origin in origins if origin.lower() != allowed.lower()]


def _other_origins(allowed: str) -> st.SearchStrategy[str]:
    labels = st.text("0123456789abcdef", min_size=4, max_size=10).map(lambda h: f"sc-{h}")
    return st.tuples(labels, st.integers(1024, 65535)).flatmap(
        lambda case: st.sampled_from(_near_misses(allowed, *case))
    )
