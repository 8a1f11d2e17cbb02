"""The contract client: one method per role, each returning the recorded exchange.

Checks speak to a target only through a :class:`ContractClient`, in the contract's
vocabulary (create, get, run, ...) and with the contract's bodies. The client puts each
request in the profile's layout (:func:`conformance.profile.outgoing`: where the ids go,
how fields are named) and gives each recorded exchange a canonical *view* of its answer
(:func:`conformance.profile.view_of`), which ``Exchange.body_json()`` returns; the raw
answer stays the evidence and the curl line. With the canonical profile nothing is
translated. Every call goes through :meth:`Target.send`, so every call is recorded.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from conformance.profile import (
    CANONICAL,
    Profile,
    created_id,
    created_ids,
    encode,
    outgoing,
    view_of,
)
from conformance.records import Exchange, JSONValue, View
from conformance.target import Target

JSON_TYPE = "application/json"
Headers = Mapping[str, str] | None

__all__ = ["JSON_TYPE", "ContractClient", "encode", "run_body"]


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

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        auth: bool = True,
    ) -> Exchange:
        """Send a request to no role (an unknown route, a raw probe) as given, its answer
        viewed through the profile like any other (errors read alike everywhere)."""
        profile = self.profile

        def any_route(exchange: Exchange) -> View | None:
            return view_of(profile, None, exchange, exchange.sent_json())

        return self.target.send(
            method,
            path,
            params=params,
            headers=headers,
            content=content,
            auth=auth,
            viewer=None if profile.canonical else any_route,
        )

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
        json_type: bool = True,
        omit: frozenset[str] = frozenset(),
    ) -> Exchange:
        """Send one request for ``role``. ``body`` is sent as JSON; ``raw`` as given
        (for malformed bodies; a JSON ``raw`` is still put in the profile's layout);
        ``method`` overrides the route's (for 405 probes). A body goes with
        ``Content-Type: application/json`` unless ``headers`` name one or ``json_type``
        is False; the values named in ``omit`` (``user_id``, ...) are left out. Raises
        :class:`~conformance.profile.NotInLayout` for what the profile's layout cannot
        carry (or leave out)."""
        request = outgoing(
            self.profile,
            role,
            method=method,
            user_id=user_id,
            session_id=session_id,
            body=body,
            raw=raw,
            headers=headers or {},
            omit=omit,
        )
        all_headers = request.headers
        has_type = any(k.lower() == "content-type" for k in all_headers)
        if request.content is not None and json_type and not has_type:
            all_headers["Content-Type"] = JSON_TYPE
        profile = self.profile

        def viewer(exchange: Exchange) -> View | None:
            return view_of(profile, role, exchange, request.sent)

        return self.target.send(
            request.method,
            request.path,
            params=dict(request.params) if request.params else None,
            headers=all_headers,
            content=request.content,
            auth=auth,
            viewer=None if profile.canonical else viewer,
            role=role,
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

    def safe_read(self, user_id: str) -> Exchange:
        """One request that reads and changes nothing: a list of ``user_id``'s sessions,
        or, in a layout with no list route, a get (else a status) of a never-created id in
        the profile's id format (any answer, a 404 included, shows the target answers)."""
        for role in ("list", "get", "status"):
            if self.profile.has(role):
                never = self.profile.session_ids.invent(random.Random(0))
                return self.call(role, user_id=user_id, session_id=never)
        route = self.profile.route("create")  # no read at all: GET on the create route
        return self.target.send("GET", route.path(user_id=user_id), role=None)

    def created_id(self, exchange: Exchange) -> str | None:
        """The session id a create response returned, if it returned a usable one
        (:func:`conformance.profile.created_id`)."""
        return created_id(self.profile, exchange)

    def created_ids(self, exchange: Exchange) -> tuple[tuple[str, JSONValue], ...]:
        """What a create response shows in each place the profile names for the session
        id (:func:`conformance.profile.created_ids`)."""
        return created_ids(self.profile, exchange)
