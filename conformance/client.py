"""The contract client: one method per role, each returning the recorded exchange.

Checks speak to a target only through a :class:`ContractClient`, in the contract's
vocabulary (create, get, run, ...). It knows the profile's routes and how bodies are
encoded; every call goes through :meth:`Target.send`, so every call is recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from conformance.profile import CANONICAL, Profile
from conformance.records import Exchange, JSONValue
from conformance.target import Target

JSON_TYPE = "application/json"
Headers = Mapping[str, str] | None


def encode(body: JSONValue) -> bytes:
    """Compact UTF-8 JSON, the way a client would send it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def run_body(user_id: str, session_id: JSONValue, text: str = "hello") -> dict[str, JSONValue]:
    return {
        "user_id": user_id,
        "session_id": session_id,
        "new_message": {"role": "user", "parts": [{"text": text}]},
    }


class ContractClient:
    def __init__(self, target: Target, profile: Profile = CANONICAL) -> None:
        self.target = target
        self.profile = profile

    def call(
        self,
        role: str,
        *,
        user_id: str | None = None,
        session_id: str | None = None,
        body: JSONValue | None = None,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        auth: bool = True,
    ) -> Exchange:
        """Send one request for ``role``. ``body`` is sent as JSON; ``raw`` as given
        (for malformed bodies); ``method`` overrides the route's (for 405 probes)."""
        route = self.profile.route(role)
        path = route.path(user_id=user_id, session_id=session_id)
        all_headers = dict(headers or {})
        content = raw
        if body is not None:
            content = encode(body)
        if content is not None and not any(k.lower() == "content-type" for k in all_headers):
            all_headers["Content-Type"] = JSON_TYPE
        return self.target.send(
            method or route.method, path, headers=all_headers, content=content, auth=auth
        )

    def create(
        self, user_id: str, body: JSONValue | None = None, *, headers: Headers = None
    ) -> Exchange:
        return self.call(
            "create", user_id=user_id, body={} if body is None else body, headers=headers
        )

    def get(self, user_id: str, session_id: str, *, headers: Headers = None) -> Exchange:
        return self.call("get", user_id=user_id, session_id=session_id, headers=headers)

    def list(self, user_id: str, *, headers: Headers = None) -> Exchange:
        return self.call("list", user_id=user_id, headers=headers)

    def delete(self, user_id: str, session_id: str, *, headers: Headers = None) -> Exchange:
        return self.call("delete", user_id=user_id, session_id=session_id, headers=headers)

    def status(self, user_id: str, session_id: str, *, headers: Headers = None) -> Exchange:
        return self.call("status", user_id=user_id, session_id=session_id, headers=headers)

    def run(
        self, user_id: str, session_id: JSONValue, text: str = "hello", *, headers: Headers = None
    ) -> Exchange:
        return self.call("run", body=run_body(user_id, session_id, text), headers=headers)

    def run_stream(
        self, user_id: str, session_id: JSONValue, text: str = "hello", *, headers: Headers = None
    ) -> Exchange:
        return self.call("run_stream", body=run_body(user_id, session_id, text), headers=headers)

    def created_id(self, exchange: Exchange) -> str | None:
        """The session id a create response returned, if it returned a usable one."""
        body = exchange.body_json()
        if not isinstance(body, dict):
            return None
        value = body.get("session_id")
        return value if isinstance(value, str) and value.strip() else None
