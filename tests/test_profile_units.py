"""Units (issue 18, feature 8): a layout that counts a contract's duration in another
unit. A small ASGI app keeps a thread's TTL in whole minutes (``ttl``) and reports its
ETA in seconds (``eta_s``); the profile converts both ways, and a value the layout's
unit cannot hold (90 seconds) is skipped with the reason, never sent as another."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from conformance.client import ContractClient
from conformance.profile import NotInLayout, Profile, ProfileError, parse_profile
from conformance.profile.reading import read_request
from conformance.profile.units import UNITS, Conversion
from conformance.records import RequestRecord
from conformance.target import Target

PROFILE: dict[str, Any] = {
    "readiness": "status",
    "roles": {
        "create": {
            "method": "POST",
            "path": "/things",
            "request": {"/ttl_seconds": {"to": "/ttl", "unit": "minutes"}},
            "response": {"/session_id": "/id"},
        },
        "status": {
            "method": "GET",
            "path": "/things/{session_id}/status",
            "response": {
                "/phase": "/phase",
                "/progress/eta_ms": {"from": "/eta_s", "unit": "seconds"},
            },
        },
    },
}


def _profile(data: dict[str, Any] = PROFILE) -> Profile:
    return parse_profile(data, origin="minutes.toml", name="minutes")


def _app(received: list[Any]) -> Starlette:
    """The layout: a TTL in whole minutes (else 422), an ETA in seconds."""

    async def create(request: Request) -> JSONResponse:
        body = await request.json()
        received.append(body)
        ttl = body.get("ttl", 60)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= 1440:
            return JSONResponse({"ok": False, "error": "VALIDATION_ERROR", "message": "ttl"}, 422)
        return JSONResponse({"id": "t-1", "ttl": ttl}, 201)

    async def status(request: Request) -> JSONResponse:
        return JSONResponse({"phase": "Provisioning", "eta_s": 1.5})

    return Starlette(
        routes=[
            Route("/things", create, methods=["POST"]),
            Route("/things/{session_id}/status", status, methods=["GET"]),
        ]
    )


def test_a_ttl_in_seconds_goes_out_in_whole_minutes_and_an_eta_comes_back_in_ms() -> None:
    received: list[Any] = []
    with Target(app=_app(received)) as target:
        client = ContractClient(target, _profile())
        created = client.create("u", {"ttl_seconds": 120})
        assert created.status == 201
        assert json.loads(created.request.body) == {"ttl": 2}
        status = client.status("u", "t-1")
        assert status.body_json() == {"phase": "Provisioning", "progress": {"eta_ms": 1500}}
    assert received == [{"ttl": 2}]


def test_a_value_the_layout_s_unit_cannot_hold_is_skipped_with_the_reason() -> None:
    received: list[Any] = []
    with Target(app=_app(received)) as target:
        client = ContractClient(target, _profile())
        with pytest.raises(NotInLayout, match="90 seconds is not a whole number of minutes"):
            client.create("u", {"ttl_seconds": 90})
        wrong = client.create("u", {"ttl_seconds": "60"})  # a wrong type stays wrong
        assert wrong.status == 422
    assert received == [{"ttl": "60"}]


def test_a_trace_in_the_layout_reads_back_in_the_contract_s_unit() -> None:
    route = _profile().route("create")
    request = RequestRecord("POST", "http://t/things", (), b'{"ttl": 3}')
    _, sent = read_request("create", route, request, {})
    assert sent == {"ttl_seconds": 180}


def test_conversions_are_exact() -> None:
    minutes = Conversion("seconds", "minutes")
    assert minutes.to_layout(86400) == 1440
    assert minutes.to_layout(61) is None
    assert minutes.to_layout(True) is True
    assert Conversion("milliseconds", "seconds").to_contract(0.25) == 250
    assert set(UNITS) == {"milliseconds", "seconds", "minutes", "hours", "days"}


@pytest.mark.parametrize(
    ("field", "spec", "message"),
    [
        (
            "/metadata",
            {"to": "/meta", "unit": "minutes"},
            "minutes.toml: roles.create.request./metadata.unit: /metadata is no duration of "
            "the contract (its name ends in none of _ms, _seconds)",
        ),
        ("/ttl_seconds", {"to": "/ttl", "unit": "fortnights"}, "is not a unit (milliseconds"),
    ],
)
def test_a_unit_the_format_cannot_read_is_one_line_naming_file_and_key(
    field: str, spec: dict[str, str], message: str
) -> None:
    data = json.loads(json.dumps(PROFILE))
    data["roles"]["create"]["request"] = {field: spec}
    with pytest.raises(ProfileError) as caught:
        _profile(data)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith("minutes.toml: roles.create.request")
    assert message in text
