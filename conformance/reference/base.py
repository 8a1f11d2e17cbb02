"""The HTTP layer of the reference: routing, the precedence of transport faults, auth,
CORS, body decoding and error envelopes.

:class:`BaseApp` is an ASGI app. It wraps a Starlette application (which provides the
request and response types, lifespan, and a last-resort error handler) and answers every
request in the contract's order::

    unknown route 404 -> wrong method 405 (+ Allow) -> 401 (+ WWW-Authenticate: Bearer)
    -> the action: 415 -> 413 -> 400 MALFORMED_JSON -> 400 SESSION_ID_MISSING -> 422
    -> 404 SESSION_NOT_FOUND -> 409

Every answer with status >= 400, including Starlette's own and any exception, is the JSON
envelope ``{ok: false, error, message, details?}``; messages never quote the request
path, an exception or a traceback. Every behaviour is a small method, so a mutant can
break the reference in one named way by overriding one of them.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders, URLPath
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.reference import errors
from conformance.reference.body import (
    MalformedJSON,
    declared_length,
    decode_json,
    is_json_media_type,
    read_capped,
)
from conformance.reference.config import ReferenceConfig
from conformance.reference.errors import Rejection
from conformance.reference.models import JSONObject
from conformance.reference.routing import ROUTES, Route, find_route, path_segments

logger = logging.getLogger("conformance.reference")

CORS_ALLOW_HEADERS = "Authorization, Content-Type"
CORS_MAX_AGE = "600"


class CatchAll(BaseRoute):
    """A Starlette route that takes every HTTP request: the reference routes by itself,
    on the raw path (Starlette's own patterns would miss a ``%0A`` inside a segment)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return (Match.FULL if scope["type"] == "http" else Match.NONE), {}

    def url_path_for(self, name: str, /, **path_params: object) -> URLPath:
        raise NoMatchFound(name, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def render_json(content: object) -> bytes:
    """Compact JSON; non-ASCII escaped, so even a lone surrogate from a request survives."""
    return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode(
        "ascii"
    )


class BaseApp:
    """The transport half of the reference; :class:`ReferenceApp` adds the session routes."""

    routes: tuple[Route, ...] = ROUTES

    def __init__(self, config: ReferenceConfig) -> None:
        self.config = config
        self.starlette = Starlette(
            routes=[CatchAll(self._endpoint)],
            exception_handlers={HTTPException: self._on_http_exception, Exception: self._on_crash},
        )

    @property
    def asgi(self) -> BaseApp:
        """The ASGI app to serve (the instance itself)."""
        return self

    # -- ASGI -----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        extra = self.cors_headers(Request(scope))
        head = scope.get("method") == "HEAD"
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name.lower() == "vary":
                        headers.add_vary_header(value)
                    else:
                        headers[name] = value
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.starlette(scope, receive, send_with_headers)
        except Exception:
            logger.exception("the reference app failed on a request")
            if not started:
                await self.internal_error_response()(scope, receive, send_with_headers)

    async def _endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.dispatch(request)
        await response(scope, receive, send)

    def _on_http_exception(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return self.not_found_response(request)
        if status >= 500:
            return self.internal_error_response()
        return self.error_response(status, f"HTTP_{status}", "The request cannot be served.")

    def _on_crash(self, request: Request, exc: Exception) -> Response:
        return self.internal_error_response()

    # -- the pipeline ---------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        """Route, then 405, OPTIONS, auth and the action; any failure becomes an envelope."""
        try:
            found = self.match_route(request)
            if found is None:
                return self.not_found_response(request)
            route, params = found
            if request.method == "OPTIONS":
                return self.preflight_response(request, route)
            action = route.action_for(request.method)
            if action is None:
                return self.method_not_allowed_response(request, route)
            if not self.authenticate(request):
                return self.unauthorized_response(request)
            return await self.handle(action, request, params)
        except Rejection as rejection:
            return self.error_response(
                rejection.status,
                rejection.code,
                rejection.message,
                rejection.details,
                rejection.headers,
            )
        except ClientDisconnect:
            return self.error_response(400, "CLIENT_DISCONNECTED", "The client went away.")
        except Exception:
            logger.exception("the reference app failed on a request")
            return self.internal_error_response()

    def match_route(self, request: Request) -> tuple[Route, Mapping[str, str]] | None:
        return find_route(path_segments(request.scope), self.routes)

    async def handle(self, action: str, request: Request, params: Mapping[str, str]) -> Response:
        """Serve one action of a matched route (``create``, ``get``, ``run``, ...)."""
        raise NotImplementedError

    # -- auth and CORS --------------------------------------------------------------------

    def authenticate(self, request: Request) -> bool:
        """True when auth is off, or the request carries ``Bearer <token>`` (any case)."""
        token = self.config.token
        if token is None:
            return True
        scheme, _, credentials = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credentials.strip(" \t").encode(), token.encode())

    def cors_headers(self, request: Request) -> dict[str, str]:
        """Headers added to every response: for the allowed origin, that origin and ``Vary``;
        for any other origin (or with CORS off) nothing."""
        origin = self.config.cors_origin
        if origin is None or request.headers.get("origin") != origin:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": "Location",
            "Vary": "Origin",
        }

    def preflight_response(self, request: Request, route: Route) -> Response:
        """``OPTIONS`` on a known route: 204 with ``Allow``, and for the allowed origin
        the CORS preflight headers. Never needs the token."""
        headers = {"Allow": route.allow}
        if self.config.cors_origin is not None and (
            request.headers.get("origin") == self.config.cors_origin
        ):
            headers["Access-Control-Allow-Methods"] = ", ".join(route.methods)
            headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
            headers["Access-Control-Max-Age"] = CORS_MAX_AGE
        return Response(status_code=204, headers=headers)

    # -- bodies ---------------------------------------------------------------------------

    def accepts_media_type(self, content_type: str | None) -> bool:
        return is_json_media_type(content_type)

    async def read_body(self, request: Request) -> bytes:
        """The body, read no further than one byte past the limit."""
        return await read_capped(request.stream(), self.config.max_body_bytes)

    def decode_json(self, raw: bytes) -> object:
        try:
            return decode_json(raw)
        except MalformedJSON as exc:
            raise Rejection(
                400, errors.MALFORMED_JSON, f"The request body is not valid JSON: {exc.reason}."
            ) from None

    async def parse_json(self, request: Request, *, empty_ok: bool = False) -> object:
        """The JSON body, in the contract's order: 415, then 413, then 400.

        With ``empty_ok`` (create) a body of no bytes is ``{}`` whatever its media type.
        """
        limit = self.config.max_body_bytes
        declared = declared_length(request.headers)
        raw = b"" if declared is not None and declared > limit else await self.read_body(request)
        if empty_ok and not raw and (declared is None or declared == 0):
            return {}
        if not self.accepts_media_type(request.headers.get("content-type")):
            raise Rejection(
                415,
                errors.UNSUPPORTED_MEDIA_TYPE,
                "The request body must be sent with Content-Type: application/json.",
            )
        if (declared is not None and declared > limit) or len(raw) > limit:
            raise Rejection(
                413,
                errors.PAYLOAD_TOO_LARGE,
                f"The request body is larger than the limit of {limit} bytes.",
                {"limit_bytes": limit},
            )
        return self.decode_json(raw)

    # -- responses ------------------------------------------------------------------------

    def json_response(
        self, content: object, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        return Response(
            render_json(content), status, dict(headers or {}), media_type="application/json"
        )

    def error_response(
        self,
        status: int,
        code: str,
        message: str,
        details: JSONObject | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The error envelope ``{ok: false, error, message, details?}``."""
        body: JSONObject = {"ok": False, "error": code, "message": message}
        if details is not None:
            body["details"] = details
        return self.json_response(body, status, headers)

    def not_found_response(self, request: Request) -> Response:
        return self.error_response(404, errors.NOT_FOUND, "There is no route at this path.")

    def method_not_allowed_response(self, request: Request, route: Route) -> Response:
        allowed = ", ".join(route.methods)
        return self.error_response(
            405,
            errors.METHOD_NOT_ALLOWED,
            f"This route does not allow that method; it allows {allowed}.",
            {"allowed": list(route.methods)},
            {"Allow": route.allow},
        )

    def unauthorized_response(self, request: Request) -> Response:
        return self.error_response(
            401,
            errors.UNAUTHORIZED,
            "This route needs an Authorization: Bearer <token> header with a valid token.",
            headers={"WWW-Authenticate": "Bearer"},
        )

    def internal_error_response(self) -> Response:
        return self.error_response(
            500, errors.INTERNAL_ERROR, "The server failed to handle the request; it was logged."
        )
