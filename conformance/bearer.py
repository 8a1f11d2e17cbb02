"""The bearer token, as an :class:`httpx.Auth`: sent with every request that asks for it.

A request that names its own ``Authorization`` header (a probe with a wrong token) keeps
it; a request sent with ``auth=False`` (a probe without a token) goes without. The token
is a secret: :class:`~conformance.redaction.Redactor` hides it in every output.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx


class Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._value = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" not in request.headers:
            request.headers["Authorization"] = self._value
        yield request
