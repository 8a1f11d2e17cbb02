"""The mock in a profile's layout: one request in, the reference's answer out, translated.

:func:`dispatch_in_layout` is what the mock's ``dispatch`` does for a profile that is not
the contract's own: route the request through the profile (:class:`~.inbound.Router`),
answer an unknown path 404, another method 405 (``Allow``: the profile's methods there)
and a preflight 204 (the layout's id headers allowed) with the reference's own answers;
otherwise rewrite the request as the contract's (:func:`~.inbound.canonical_request`),
let the reference — with the mock's modes — answer it, and write that answer in the
layout (:mod:`conformance.profile.writing`). Auth, validation, sentinels, provisioning and the order of
errors are the reference's; the layout only moves where things are.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Protocol
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Scope

from conformance.mock.inbound import Routed, Router, canonical_request
from conformance.profile import Profile, Route
from conformance.profile.writing import (
    created_headers,
    error_body,
    frame_in_layout,
    success_body,
    success_status,
)
from conformance.records import RequestRecord
from conformance.reference.body import read_capped
from conformance.reference.routing import Route as ReferenceRoute

Forward = Callable[[Request], Awaitable[Response]]


class ReferenceAnswers(Protocol):
    """The reference's own answers the layout reuses (routing faults, preflights)."""

    def not_found_response(self, request: Request) -> Response: ...

    def method_not_allowed_response(self, request: Request, route: ReferenceRoute) -> Response: ...

    def preflight_response(self, request: Request, route: ReferenceRoute) -> Response: ...


async def dispatch_in_layout(
    app: ReferenceAnswers, router: Router, request: Request, forward: Forward, limit: int
) -> Response:
    """``request`` (in ``router.profile``'s layout) answered by ``forward`` (the
    reference's dispatch; ``limit``: its body size limit), in the layout."""
    profile = router.profile
    scope = request.scope
    raw_path = _raw_path(scope)
    routed = router.find(request.method, raw_path)
    if routed is None:
        return in_layout(profile, None, app.not_found_response(request))
    if request.method == "OPTIONS":
        response = app.preflight_response(request, routed.reference)
        allowed = response.headers.get("access-control-allow-headers")
        names = router.header_names(routed.template)
        if allowed is not None and names:
            response.headers["access-control-allow-headers"] = ", ".join([allowed, *names])
        return response
    if routed.role is None:
        return in_layout(
            profile, routed, app.method_not_allowed_response(request, routed.reference)
        )
    body = await read_capped(request.stream(), limit)
    query = scope.get("query_string", b"").decode("latin-1")
    record = RequestRecord(
        request.method,
        raw_path + (f"?{query}" if query else ""),
        tuple((k.lower(), v) for k, v in request.headers.items()),
        body,
    )
    canonical = canonical_request(profile, routed, record, body, cut=len(body) > limit)
    inner = _request(request, canonical.method, canonical.path, canonical.body)
    return in_layout(profile, routed, await forward(inner))


def in_layout(profile: Profile, routed: Routed | None, response: Response) -> Response:
    """The reference's ``response`` to a request for ``routed`` written in the layout."""
    role = None if routed is None else routed.role
    route = None if routed is None else routed.route
    status = response.status_code
    if status >= 400:
        canonical = json.loads(bytes(response.body))
        body, media_type = error_body(profile, role, route, status, canonical)
        return Response(body, status, moved_headers(response.headers, frozenset()), media_type)
    if role is None or route is None:
        return response
    headers = moved_headers(response.headers, frozenset({"location"}))
    if isinstance(response, StreamingResponse):
        chunks = frames_in_layout(profile, route, _bytes(response))
        return StreamingResponse(chunks, status, headers, media_type=response.media_type)
    canonical = json.loads(bytes(response.body))
    raw, extra = success_body(profile, route, canonical)
    headers.update(extra)
    if role == "create":
        headers.update(created_headers(profile, route, canonical))
    status = success_status(role, route, status)
    if status == 204:
        return Response(b"", 204, headers)
    return Response(json.dumps(raw, separators=(",", ":")), status, headers, "application/json")


async def frames_in_layout(
    profile: Profile, route: Route, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """The reference's ``data: <Event>`` frames, each written as the layout's frame."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            yield frame_in_layout(profile, route, frame) + b"\n\n"
    if buffer:
        yield frame_in_layout(profile, route, buffer)


def moved_headers(headers: Mapping[str, str], drop: frozenset[str]) -> dict[str, str]:
    """The reference's response headers a translated answer keeps (not its framing)."""
    skipped = drop | {"content-length", "content-type"}
    return {k: v for k, v in headers.items() if k.lower() not in skipped}


async def _bytes(response: StreamingResponse) -> AsyncIterator[bytes]:
    async for chunk in response.body_iterator:
        yield chunk if isinstance(chunk, bytes) else str(chunk).encode("utf-8")


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.decode("latin-1").split("?", 1)[0]
    return quote(str(scope.get("path", "")))


def _request(request: Request, method: str, path: str, body: bytes | None) -> Request:
    """A request for the reference: ``request``'s headers and connection, the contract's
    method, path and body."""
    content = body or b""
    headers = [(k, v) for k, v in request.scope["headers"] if k.lower() != b"content-length"]
    if body is not None:
        headers.append((b"content-length", str(len(content)).encode("latin-1")))
    scope = {
        **request.scope,
        "method": method,
        "path": unquote(path),
        "raw_path": path.encode("latin-1"),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
    }
    given = False
    outer = request.receive

    async def receive() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": content, "more_body": False}
        return await outer()

    return Request(scope, receive)
