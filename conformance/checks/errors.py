"""Errors: every error is the JSON envelope, on every route, in the documented order
(ERR-*).

Transport-level faults (unknown route, wrong method, body not JSON, wrong media type,
body too large) are provoked directly; ERR-006 and ERR-007 throw hostile requests (any
bytes, any JSON, odd ids and paths, odd media types) at every route; ERR-008 sends
requests that break two rules at once and demands the rule that comes first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import quote

from hypothesis import strategies as st

from conformance.checks import check
from conformance.client import encode, run_body
from conformance.context import CheckContext
from conformance.expectations import describe, expect_envelope, expect_error, expect_status
from conformance.generation import component, invalid_bodies, json_values, matches
from conformance.profile import Route
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue

#: 1 MiB: a body of exactly this many bytes is accepted, one more is 413.
BODY_LIMIT = 1_048_576
#: Methods probed for 404/405 (HEAD answers carry no body; OPTIONS is CORS's).
PROBE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Media types that are not application/json (``None``: no Content-Type at all).
WRONG_MEDIA_TYPES: tuple[str | None, ...] = (
    "text/plain",
    "application/x-www-form-urlencoded",
    None,
    "application/xml",
    "application/vnd.sc-test+json",
    "multipart/form-data; boundary=sc",
)
#: Spellings of application/json that must not be refused (RFC 9110: case-insensitive,
#: parameters allowed).
JSON_SPELLINGS = ("application/json; charset=utf-8", "Application/JSON")


@check("ERR-001")
def unknown_route_is_404(ctx: CheckContext) -> Iterator[Finding]:
    user, session_id = ctx.new_user(), ctx.new_session_id()
    known = [route for _, route in ctx.client.profile.routes]
    prefixes = ["", *{r.path(user_id=user, session_id=session_id) for r in known}]

    def probe(case: tuple[str, str, str]) -> Finding | None:
        prefix, method, segment = case
        path = f"{prefix}/{segment}"
        if _matches_any(path, known):
            return None
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        exchange = ctx.client.target.send(
            method, path, headers={"Content-Type": "application/json"}, content=body
        )
        return expect_error(
            exchange, 404, "NOT_FOUND", f"{method} {path}, a route that does not exist"
        )

    segments = st.from_regex(r"sc-nowhere-[a-z0-9]{1,12}", fullmatch=True)
    cases = st.tuples(st.sampled_from(sorted(prefixes)), st.sampled_from(PROBE_METHODS), segments)
    first = probe(("", "GET", f"sc-nowhere-{ctx.rng.getrandbits(32):08x}"))
    if first is not None:
        yield first
        return
    yield from for_all(ctx, cases, probe, max_examples=min(ctx.settings.max_examples, 15))


@check("ERR-002")
def wrong_method_is_405_with_allow(ctx: CheckContext) -> Iterator[Finding]:
    profile = ctx.client.profile
    user, session_id = ctx.new_user(), ctx.new_session_id()
    templates = {route.template: route for _, route in profile.routes}
    for template, route in templates.items():
        served = profile.methods_at(template)
        path = route.path(user_id=user, session_id=session_id)
        for method in (m for m in PROBE_METHODS if m not in served):
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            exchange = ctx.client.target.send(
                method, path, headers={"Content-Type": "application/json"}, content=body
            )
            why = f"{method} {path}, a route that serves {', '.join(sorted(served))}"
            finding = expect_error(exchange, 405, "METHOD_NOT_ALLOWED", why)
            if finding is None:
                finding = _allow_problem(exchange, served, why)
            if finding is not None:
                yield finding


@check("ERR-003")
def malformed_json_is_400(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    run_text = encode(run_body(ctx.new_user(), ctx.new_session_id()))
    cases: list[tuple[str, str, bytes]] = []
    for role, valid in (("create", b'{"metadata":{"k":"v"}}'), ("run", run_text)):
        cases += [(role, name, raw) for name, raw in _malformed(valid)]
    cases.append(("run", "an empty body", b""))

    def probe(case: tuple[str, str, bytes]) -> Finding | None:
        role, name, raw = case
        exchange = _send_raw(ctx, role, user, raw)
        return expect_error(exchange, 400, "MALFORMED_JSON", f"{role} with {name}: {raw[:60]!r}")

    for case in cases:
        finding = probe(case)
        if finding is not None:
            yield finding
    truncations = st.sampled_from(cases[:2]).flatmap(
        lambda c: st.integers(1, len(c[2]) - 1).map(
            lambda n: (c[0], f"the first {n} bytes of a valid body", c[2][:n])
        )
    )
    yield from for_all(ctx, truncations, probe, max_examples=min(ctx.settings.max_examples, 10))


@check("ERR-004")
def wrong_media_type_is_415(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    bodies = {
        "create": encode({"metadata": {"k": "v"}}),
        "run": encode(run_body(ctx.new_user(), ctx.new_session_id())),
    }
    for role, body in bodies.items():
        for media_type in WRONG_MEDIA_TYPES:
            headers = {} if media_type is None else {"Content-Type": media_type}
            exchange = _send_raw(ctx, role, user, body, headers)
            shown = "no Content-Type" if media_type is None else f"Content-Type {media_type}"
            finding = expect_error(
                exchange,
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"{role} with a valid JSON body and {shown}",
            )
            if finding is not None:
                yield finding
    for media_type in JSON_SPELLINGS:
        exchange = _send_raw(ctx, "create", user, bodies["create"], {"Content-Type": media_type})
        if exchange.status == 415:
            yield Finding(
                f"create with Content-Type {media_type} was refused: {describe(exchange)}",
                "application/json matched case-insensitively, parameters ignored (RFC 9110)",
                exchange,
            )


@check("ERR-005")
def body_over_one_mib_is_413(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    for role in ("create", "run"):
        exact = _sized_body(ctx, role, BODY_LIMIT)
        over = _sized_body(ctx, role, BODY_LIMIT + 1)
        exchange = _send_raw(ctx, role, user, over)
        finding = expect_error(
            exchange,
            413,
            "PAYLOAD_TOO_LARGE",
            f"{role} with a valid JSON body of {len(over)} bytes",
        )
        if finding is not None:
            yield finding
        exchange = _send_raw(ctx, role, user, exact)
        why = f"{role} with a valid JSON body of exactly {len(exact)} bytes (1 MiB)"
        if role == "create":
            finding = expect_status(exchange, 201, why)
        elif exchange.status == 413:
            finding = Finding(
                f"{why}: got {describe(exchange)}", "not 413: 1 MiB is within the limit", exchange
            )
        else:
            finding = None
        if finding is not None:
            yield finding


@check("ERR-006")
def every_error_is_the_envelope(ctx: CheckContext) -> Iterator[Finding]:
    def probe(request: Hostile) -> Finding | None:
        exchange = send_hostile(ctx, request)
        if exchange.status is None or exchange.status < 400:
            return None
        return expect_envelope(exchange, f"{request.describe()} answered {exchange.status}")

    yield from for_all(
        ctx, hostile_requests(ctx), probe, max_examples=ctx.settings.max_examples * 2
    )


@check("ERR-007")
def no_request_gets_a_5xx(ctx: CheckContext) -> Iterator[Finding]:
    def probe(request: Hostile) -> Finding | None:
        exchange = send_hostile(ctx, request)
        status = exchange.status or 0
        if status >= 500:
            return Finding(
                f"{request.describe()}: got {describe(exchange)}", "a 4xx, never a 5xx", exchange
            )
        if request.must_fail and status < 400:
            return Finding(
                f"{request.describe()}, a request that cannot succeed, got {describe(exchange)}",
                "a 4xx answer",
                exchange,
            )
        return None

    yield from for_all(
        ctx, hostile_requests(ctx), probe, max_examples=ctx.settings.max_examples * 2
    )


@check("ERR-008")
def errors_follow_the_precedence(ctx: CheckContext) -> Iterator[Finding]:
    for why, exchange, status, code in _precedence_probes(ctx):
        finding = expect_error(exchange, status, code, why)
        if finding is not None:
            yield finding


#: What was sent (already sent when yielded), and the status and code it must get.
Probe = tuple[str, Exchange, int, str]


def _precedence_probes(ctx: CheckContext) -> Iterator[Probe]:
    """Requests that break two rules; the first rule in the contract's order must win."""
    user, missing = ctx.new_user(), ctx.new_session_id()
    valid = run_body(user, missing)
    unknown = {**valid, "tool_metadata": {}}
    sentinel_and_unknown = {**unknown, "session_id": "undefined"}
    garbage = b'{"session_id": "undefined", '
    big_text = b"x" * (BODY_LIMIT + 1)
    big_json = b'{"pad":"' + b"x" * BODY_LIMIT
    text = {"Content-Type": "text/plain"}
    yield (
        "run with an unknown field on a never-created session (422 before 404)",
        _send_raw(ctx, "run", user, encode(unknown)),
        422,
        "VALIDATION_ERROR",
    )
    yield (
        "run with session_id 'undefined' and an unknown field (sentinel 400 before 422)",
        _send_raw(ctx, "run", user, encode(sentinel_and_unknown)),
        400,
        "SESSION_ID_MISSING",
    )
    yield (
        "run with a body that is not JSON and mentions 'undefined' (400 MALFORMED_JSON)",
        _send_raw(ctx, "run", user, garbage),
        400,
        "MALFORMED_JSON",
    )
    for role in ("create", "run"):
        yield (
            f"{role} with malformed JSON sent as text/plain (415 before 400)",
            _send_raw(ctx, role, user, garbage, text),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        yield (
            f"{role} with {len(big_text)} bytes of text/plain (415 before 413)",
            _send_raw(ctx, role, user, big_text, text),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        yield (
            f"{role} with {len(big_json)} bytes of malformed JSON (413 before 400)",
            _send_raw(ctx, role, user, big_json),
            413,
            "PAYLOAD_TOO_LARGE",
        )
    yield (
        "run with session_id 'undefined' sent as text/plain (415 before the sentinel 400)",
        _send_raw(ctx, "run", user, encode({**valid, "session_id": "undefined"}), text),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    if ctx.client.profile.has("get"):
        yield (
            "get with a user id breaking its pattern and session id 'undefined' (400 before 422)",
            ctx.client.get("-sc-bad-user", "undefined"),
            400,
            "SESSION_ID_MISSING",
        )
        yield (
            "get with a user id breaking its pattern and a never-created session (422 before 404)",
            ctx.client.get("-sc-bad-user", missing),
            422,
            "VALIDATION_ERROR",
        )
    yield from _state_probes(ctx)
    if ctx.settings.token is not None:
        yield from _auth_probes(ctx, user, garbage, big_json)


def _state_probes(ctx: CheckContext) -> Iterator[Probe]:
    """Ownership before state, validation before state and before SESSION_EXISTS."""
    owner, other = ctx.new_user(), ctx.new_user()
    wanted = ctx.new_session_id()
    client_ids = "client_ids" in ctx.settings.features
    created = ctx.create(owner, {"session_id": wanted} if client_ids else {})
    sid = created.session_id
    yield (
        "run by another user on a session that exists (404 before 409)",
        ctx.client.run(other, sid),
        404,
        "SESSION_NOT_FOUND",
    )
    yield (
        "run by the owner with an unknown field in new_message (422 before 409)",
        _send_raw(
            ctx,
            "run",
            owner,
            encode(
                {
                    **run_body(owner, sid),
                    "new_message": {"role": "user", "parts": [{"text": "x"}], "sc": 1},
                }
            ),
        ),
        422,
        "VALIDATION_ERROR",
    )
    if client_ids:
        yield (
            "create with a taken session_id and an unknown field (422 before 409)",
            _send_raw(ctx, "create", owner, encode({"session_id": sid, "tool_metadata": 1})),
            422,
            "VALIDATION_ERROR",
        )


def _auth_probes(ctx: CheckContext, user: str, garbage: bytes, big_json: bytes) -> Iterator[Probe]:
    """404 and 405 before 401; 401 before 415, 413 and 400."""
    target = ctx.client.target
    served = ctx.client.profile.route("run")
    wrong = next(
        m for m in PROBE_METHODS if m not in ctx.client.profile.methods_at(served.template)
    )
    yield (
        "an unknown route without a token (404 before 401)",
        target.send("GET", f"/sc-nowhere-{ctx.rng.getrandbits(32):08x}", auth=False),
        404,
        "NOT_FOUND",
    )
    yield (
        f"{wrong} on the run route without a token (405 before 401)",
        target.send(wrong, served.path(), auth=False),
        405,
        "METHOD_NOT_ALLOWED",
    )
    for why, raw, headers in (
        (
            "a valid body sent as text/plain",
            encode(run_body(user, "sc-x")),
            {"Content-Type": "text/plain"},
        ),
        ("malformed JSON", garbage, {"Content-Type": "application/json"}),
        (f"{len(big_json)} bytes", big_json, {"Content-Type": "application/json"}),
    ):
        yield (
            f"run without a token and with {why} (401 first)",
            target.send(served.method, served.path(), headers=headers, content=raw, auth=False),
            401,
            "UNAUTHORIZED",
        )


# -- hostile requests ---------------------------------------------------------------------


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


def hostile_requests(ctx: CheckContext) -> st.SearchStrategy[Hostile]:
    profile = ctx.client.profile
    roles: list[str | None] = [None, *(name for name, _ in profile.routes)]
    odd_text = st.text(min_size=1, max_size=24).filter(lambda s: s not in (".", ".."))
    ids = (
        st.none()
        | odd_text
        | st.sampled_from(["undefined", " null ", "[object Object]", "%2F", "a b"])
    )
    media = st.sampled_from(["application/json", "application/json", "text/plain", None]) | (
        st.from_regex(r"[a-z]{1,8}/[a-z0-9.+-]{1,12}", fullmatch=True)
    )
    bodies = st.one_of(
        st.none(),
        st.binary(max_size=64),
        json_values().map(encode),
        st.sampled_from(["CreateSession", "RunRequest"])
        .flatmap(invalid_bodies)
        .map(lambda m: encode(m.body)),
        st.tuples(odd_text, odd_text).map(lambda p: encode(run_body(_unused(p[0]), p[1]))),
    )
    auth = st.booleans() if ctx.settings.token is not None else st.just(True)

    def build(role: str | None) -> st.SearchStrategy[Hostile]:
        method = profile.route(role).method if role is not None else "GET"
        served = profile.methods_at(profile.route(role).template) if role else frozenset()
        return st.builds(
            Hostile,
            role=st.just(role),
            method=st.sampled_from([method, method, *PROBE_METHODS]),
            user=ids,
            session_id=ids,
            media_type=media,
            body=bodies,
            auth=auth,
        ).map(
            lambda h: replace(
                h,
                must_fail=(role not in ("create", "list") or not h.auth or h.method not in served),
            )
        )

    return st.sampled_from(roles).flatmap(build)


def send_hostile(ctx: CheckContext, request: Hostile) -> Exchange:
    user = request.user if request.user is not None else ctx.new_user()
    if request.role is None:
        path = f"/sc-nowhere-{quote(request.session_id or 'x', safe='')}"
    else:
        path = ctx.client.profile.route(request.role).path(
            user_id=_unused(user) if request.user is not None else user,
            session_id=request.session_id
            if request.session_id is not None
            else ctx.new_session_id(),
        )
    headers = {} if request.media_type is None else {"Content-Type": request.media_type}
    body = request.body if request.method in ("POST", "PUT", "PATCH") else None
    exchange = ctx.client.target.send(
        request.method, path, headers=headers, content=body, auth=request.auth
    )
    if request.role == "create" and exchange.status in (200, 201):
        session_id = ctx.client.created_id(exchange)
        if session_id is not None:
            ctx.track(user, session_id)
    return exchange


# -- helpers ------------------------------------------------------------------------------


def _send_raw(
    ctx: CheckContext, role: str, user: str, raw: bytes, headers: dict[str, str] | None = None
) -> Exchange:
    """``raw`` to ``role`` as it is (``headers`` replace the JSON Content-Type)."""
    route = ctx.client.profile.route(role)
    path = route.path(user_id=user, session_id=ctx.new_session_id())
    sent = {"Content-Type": "application/json"} if headers is None else headers
    exchange = ctx.client.target.send(route.method, path, headers=sent, content=raw)
    if role == "create" and exchange.status in (200, 201):
        session_id = ctx.client.created_id(exchange)
        if session_id is not None:
            ctx.track(user, session_id)
    return exchange


def _malformed(valid: bytes) -> list[tuple[str, bytes]]:
    """Ways a valid JSON object body stops being JSON."""
    text = valid.decode()
    inner = text[1:-1]
    return [
        ("truncated JSON", valid[: len(valid) // 2]),
        ("NaN", f'{{"sc":NaN,{inner}}}'.encode()),
        ("Infinity", f'{{"sc":Infinity,{inner}}}'.encode()),
        ("-Infinity", f'{{"sc":-Infinity,{inner}}}'.encode()),
        ("invalid UTF-8", valid[:-1] + b',"sc":"\xff\xfe"}'),
        ("trailing garbage", valid + b" sc"),
        ("two JSON values", valid + valid),
        ("single quotes", text.replace('"', "'").encode()),
        ("a bare word", b"hello"),
    ]


def _sized_body(ctx: CheckContext, role: str, size: int) -> bytes:
    """A valid JSON body of exactly ``size`` bytes (padding in metadata, or in the text)."""
    if role == "create":
        shell: dict[str, JSONValue] = {"metadata": {"pad": ""}}
    else:
        shell = run_body(ctx.new_user(), ctx.new_session_id(), "")
    pad = "x" * (size - len(encode(shell)))
    if role == "create":
        shell = {"metadata": {"pad": pad}}
    else:
        shell = run_body(str(shell["user_id"]), shell["session_id"], pad)
    body = encode(shell)
    if len(body) != size:
        raise AssertionError(f"padded body is {len(body)} bytes, not {size}")
    return body


def _matches_any(path: str, routes: list[Route]) -> bool:
    """Whether ``path`` would match one of the profile's templates."""
    segments = path.strip("/").split("/")
    for route in routes:
        parts = route.template.strip("/").split("/")
        if len(parts) == len(segments) and all(
            p.startswith("{") or p == s for p, s in zip(parts, segments, strict=True)
        ):
            return True
    return False


def _allow_problem(exchange: Exchange, served: frozenset[str], why: str) -> Finding | None:
    allow = exchange.response.header("allow") if exchange.response is not None else None
    named = {m.strip().upper() for m in (allow or "").split(",") if m.strip()}
    missing = sorted(served - named)
    if allow is not None and not missing:
        return None
    shown = "no Allow header" if allow is None else f"Allow: {allow} (missing {', '.join(missing)})"
    return Finding(
        f"{why}: 405 with {shown}", f"Allow naming {', '.join(sorted(served))}", exchange
    )


def _unused(user: str) -> str:
    """An odd user id that no one uses: a valid one gets a prefix no real user has."""
    return f"sc-odd-{user}"[:128] if matches(component("UserId"), user) else user
