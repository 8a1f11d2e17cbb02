"""The profile package is the one owner of the mapping: a create's id is read in one place
(whichever of body, ``Location`` or a header the profile names), and no module outside
``conformance/profile/`` reads a route's places or sources itself."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from conformance.client import ContractClient
from conformance.model import Model
from conformance.observed import observe
from conformance.profile import Profile, created_id, parse_profile, view_of
from conformance.records import Exchange, RequestRecord, ResponseRecord
from conformance.target import Target

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "conformance" / "profile"


def _profile(created: list[str]) -> Profile:
    data: dict[str, Any] = {
        "readiness": "immediate",
        "roles": {
            "create": {
                "method": "POST",
                "path": "/users/{user_id}/sessions",
                "created_id": created,
                "response": {
                    "/session_id": {"absent": "named in Location or a header alone"},
                    "/session/user_id": "/owner",
                },
            },
        },
    }
    return parse_profile(data, origin="test.toml", name="test")


def _create(profile: Profile, headers: tuple[tuple[str, str], ...]) -> Exchange:
    response = ResponseRecord(
        201, (("content-type", "application/json"), *headers), b'{"owner":"u"}'
    )
    raw = Exchange(0, RequestRecord("POST", "http://t/users/u/sessions", ()), response)
    return Exchange(0, raw.request, response, view=view_of(profile, "create", raw), role="create")


def test_a_created_id_in_location_or_a_header_is_read_by_every_reader() -> None:
    for created, headers, expected in (
        (["location"], (("location", "/users/u/sessions/s-1"),), "s-1"),
        (["header:X-Session-ID"], (("x-session-id", "s-2"),), "s-2"),
    ):
        profile = _profile(created)
        exchange = _create(profile, headers)
        assert created_id(profile, exchange) == expected
        client = ContractClient(Target("http://127.0.0.1:9"), profile)
        assert client.created_id(exchange) == expected
        model = Model(Counter(), profile)
        assert model.judge_create("u", None, {}, exchange) == []
        assert model.ids_of("u") == [expected]
        (seen,) = observe(((0.0, exchange),), profile, "http://t")
        assert seen.created_id == expected


def test_a_create_that_names_no_id_is_a_discrepancy_for_the_model() -> None:
    profile = _profile(["location"])
    (found,) = Model(Counter(), profile).judge_create("u", None, {}, _create(profile, ()))
    assert "no session_id" in found.problem


#: What reads a route's mapping itself: the contract's own places, its sources, the
#: pointers of a request's renames and constants, a create's id places.
_INTERPRETS = re.compile(
    r"CANONICAL_SOURCES|source\.kind|route\.(request|response|constants|created_id)\b"
)


def test_no_module_outside_the_package_reads_a_route_s_mapping() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "conformance").rglob("*.py"))
        if PACKAGE not in path.parents
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _INTERPRETS.search(line)
    ]
    assert offenders == []


def test_each_module_of_the_package_is_under_400_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > 400} == {}
