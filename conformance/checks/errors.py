"""Errors: every error is the JSON envelope, on every route, in the documented order
(ERR-*).

Transport-level faults (unknown route, wrong method, body not JSON, wrong media type,
body too large) are provoked directly; ERR-006 and ERR-007 throw hostile requests (any
bytes, any JSON, odd ids and paths, odd media types) at every route; ERR-008 sends
requests that break two rules at once and demands the rule that comes first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import strategies as st

from conformance.checks import check
from conformance.client import encode, run_body
from conformance.context import CheckContext
from conformance.expectations import describe, expect_envelope, expect_error, expect_status
from conformance.hostile import (
    PROBE_METHODS,
    Hostile,
    hostile_requests,
    send_hostile,
    usual_suspects,
)
from conformance.profile import NotInLayout, Route
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue

#: 1 MiB: a body of exactly this many bytes is accepted, one more is 413.
BODY_LIMIT = 1_048_576
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
        exchange = ctx.client.send(
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
            exchange = ctx.client.send(
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
    valid = [
        ("create", encode({"metadata": {"k": "v"}})),
        ("run", encode(run_body(ctx.new_user(), ctx.new_session_id()))),
    ]
    cases = [(role, name, raw) for role, body in valid for name, raw in _malformed(body)]
    cases.append(("run", "an empty body", b""))

    def probe(case: tuple[str, str, bytes]) -> Finding | None:
        role, name, raw = case
        exchange = _send_raw(ctx, role, user, raw)
        return expect_error(exchange, 400, "MALFORMED_JSON", f"{role} with {name}: {raw[:60]!r}")

    for case in cases:
        finding = probe(case)
        if finding is not None:
            yield finding
    truncated = st.sampled_from(valid).flatmap(
        lambda v: st.integers(1, len(v[1]) - 1).map(
            lambda n: (v[0], f"the first {n} bytes of a valid body", v[1][:n])
        )
    )
    yield from for_all(ctx, truncated, probe, max_examples=min(ctx.settings.max_examples, 10))


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

    yield from _hostile(ctx, probe)


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

    yield from _hostile(ctx, probe)


@check("ERR-008")
def errors_follow_the_precedence(ctx: CheckContext) -> Iterator[Finding]:
    for expected, why, send in _precedence_probes(ctx):
        try:
            exchange = send()
        except NotInLayout as exc:  # its fault would be lost in the layout: not sent
            ctx.untranslatable(str(exc))
            continue
        ctx.judged += 1
        status, code = expected.split(" ", 1)
        finding = expect_error(exchange, int(status), code, f"{why} (must be {status} first)")
        if finding is not None:
            yield finding


#: The status and code that must win, what is sent, and how (called when judged).
Probe = tuple[str, str, Callable[[], Exchange]]
E400, E415, E413 = "400 MALFORMED_JSON", "415 UNSUPPORTED_MEDIA_TYPE", "413 PAYLOAD_TOO_LARGE"
E422, MISSING, NOT_FOUND = "422 VALIDATION_ERROR", "400 SESSION_ID_MISSING", "404 SESSION_NOT_FOUND"
TEXT = {"Content-Type": "text/plain"}


def _precedence_probes(ctx: CheckContext) -> Iterator[Probe]:
    """Requests that break two rules; the first rule in the contract's order must win."""
    user, missing = ctx.new_user(), ctx.new_session_id()
    valid = run_body(user, missing)
    sentinel = encode({**valid, "session_id": "undefined"})
    unknown = {**valid, "tool_metadata": {}}
    garbage = b'{"session_id": "undefined", '
    big_text, big_json = b"x" * (BODY_LIMIT + 1), b'{"pad":"' + b"x" * BODY_LIMIT

    def send(
        role: str, raw: bytes, headers: dict[str, str] | None = None
    ) -> Callable[[], Exchange]:
        return lambda: _send_raw(ctx, role, user, raw, headers)

    yield E422, "run: an unknown field, a never-created id", send("run", encode(unknown))
    yield (
        MISSING,
        "run: session_id 'undefined' and an unknown field",
        send("run", encode({**unknown, "session_id": "undefined"})),
    )
    yield E400, "run: a body that is not JSON but mentions 'undefined'", send("run", garbage)
    yield E415, "run: session_id 'undefined' sent as text/plain", send("run", sentinel, TEXT)
    for role in ("create", "run"):
        yield E415, f"{role}: malformed JSON sent as text/plain", send(role, garbage, TEXT)
        yield E415, f"{role}: {len(big_text)} bytes of text/plain", send(role, big_text, TEXT)
        yield E413, f"{role}: {len(big_json)} bytes of malformed JSON", send(role, big_json)
    if ctx.client.profile.has("get"):
        bad_user = "-sc-bad-user"
        yield (
            MISSING,
            f"get: user {bad_user!r} and session 'undefined'",
            lambda: ctx.client.get(bad_user, "undefined"),
        )
        yield (
            E422,
            f"get: user {bad_user!r} and a never-created session",
            lambda: ctx.client.get(bad_user, missing),
        )
    yield from _state_probes(ctx)
    if ctx.settings.token is not None:
        yield from _auth_probes(ctx, encode(valid), garbage, big_json)


def _state_probes(ctx: CheckContext) -> Iterator[Probe]:
    """Ownership before state, validation before state and before SESSION_EXISTS."""
    owner, other = ctx.new_user(), ctx.new_user()
    client_ids = "client_ids" in ctx.settings.features
    sid = ctx.create(owner, {"session_id": ctx.new_session_id()} if client_ids else {}).session_id
    yield (
        NOT_FOUND,
        "run by another user on a session not (yet) Ready",
        lambda: ctx.client.run(other, sid),
    )
    message: JSONValue = {"role": "user", "parts": [{"text": "x"}], "sc": 1}
    body = encode({**run_body(owner, sid), "new_message": message})
    yield (
        E422,
        "run by the owner, an unknown field in new_message",
        lambda: _send_raw(ctx, "run", owner, body),
    )
    if client_ids:
        taken = encode({"session_id": sid, "tool_metadata": 1})
        yield (
            E422,
            "create: a taken session_id and an unknown field",
            lambda: _send_raw(ctx, "create", owner, taken),
        )


def _auth_probes(ctx: CheckContext, valid: bytes, garbage: bytes, big: bytes) -> Iterator[Probe]:
    """404 and 405 before 401; 401 before 415, 413 and 400."""
    target = ctx.client
    run = ctx.client.profile.route("run")
    served = ctx.client.profile.methods_at(run.template)
    nowhere = f"/sc-nowhere-{ctx.rng.getrandbits(32):08x}"
    run_path = run.path(user_id=ctx.new_user(), session_id=ctx.new_session_id())
    yield (
        "404 NOT_FOUND",
        "an unknown route, no token",
        lambda: target.send("GET", nowhere, auth=False),
    )

    def unauthorized(method: str, **options: Any) -> Callable[[], Exchange]:
        return lambda: target.send(method, run_path, auth=False, **options)

    for wrong in (m for m in PROBE_METHODS if m not in served):
        yield "405 METHOD_NOT_ALLOWED", f"{wrong} on the run route, no token", unauthorized(wrong)
        break
    json_type = {"Content-Type": "application/json"}
    for why, raw, headers in (
        ("a valid body as text/plain", valid, TEXT),
        ("malformed JSON", garbage, json_type),
        (f"{len(big)} bytes", big, json_type),
    ):
        yield (
            "401 UNAUTHORIZED",
            f"run without a token, with {why}",
            unauthorized(run.method, headers=headers, content=raw),
        )


# -- helpers ------------------------------------------------------------------------------


def _hostile(ctx: CheckContext, probe: Callable[[Hostile], Finding | None]) -> Iterator[Finding]:
    """The usual suspects first (the first failure ends the sweep), then a property."""
    for request in usual_suspects(ctx.client.profile):
        finding = probe(request)
        if finding is not None:
            yield finding
            return
    strategy = hostile_requests(ctx.client.profile, with_auth=ctx.settings.token is not None)
    yield from for_all(ctx, strategy, probe, max_examples=ctx.settings.max_examples * 2)


def _send_raw(
    ctx: CheckContext, role: str, user: str, raw: bytes, headers: dict[str, str] | None = None
) -> Exchange:
    """``raw`` to ``role`` as it is (``headers`` replace the JSON Content-Type); a JSON
    ``raw`` is put in the profile's layout by the client, and a body that is not JSON
    still carries the user and session ids where the layout keeps them outside it."""
    missing = None if role == "create" else ctx.new_session_id()  # a create names none
    sent = {"Content-Type": "application/json"} if headers is None else headers
    exchange = ctx.client.call(
        role, user_id=user, session_id=missing, raw=raw, headers=sent, json_type=False
    )
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
