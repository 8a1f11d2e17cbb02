"""Which role an exchange was sent for is read in one place (Watch.role_of): the role the
contract client (or the trace reader) set on the exchange, the route match only when it
set none."""

from __future__ import annotations

from conformance.observed import observe
from conformance.passive import Watch, roles_of
from conformance.profile import CANONICAL
from conformance.records import Exchange, RequestRecord, ResponseRecord

BASE = "http://127.0.0.1:9/api"


def _exchange(method: str, path: str, role: str | None) -> Exchange:
    request = RequestRecord(method, BASE + path, ())
    return Exchange(index=0, request=request, response=ResponseRecord(404, (), b""), role=role)


def test_the_role_the_client_set_wins_and_the_route_match_is_the_fallback() -> None:
    watch = Watch(roles=roles_of(CANONICAL, BASE))
    path = "/users/u1/sessions/undefined"
    # Sent for no role (raw bytes to a route): the route match names the role and the id.
    assert watch.role_of(_exchange("GET", path, None)) == ("get", "undefined")
    # Sent for a role: that role, with the id its path names.
    assert watch.role_of(_exchange("GET", path, "get")) == ("get", "undefined")
    # Sent for a role with another method (a 405 probe): the role it was sent for; the
    # path matched no route of that role, so it names no id.
    assert watch.role_of(_exchange("PATCH", path, "get")) == ("get", None)
    assert watch.role_of(_exchange("GET", "/elsewhere", None)) is None


def test_a_trace_read_through_the_profile_carries_its_role_on_the_exchange() -> None:
    seen = observe(
        ((0.0, _exchange("DELETE", "/users/u1/sessions/s1", None)),
         (0.1, _exchange("GET", "/nowhere", None))),
        CANONICAL,
        BASE,
    )  # fmt: skip
    assert [item.exchange.role for item in seen] == ["delete", None]
    assert [item.role for item in seen] == ["delete", None]
    assert seen[0].session_id == "s1"


def test_a_route_404_for_a_path_that_routes_elsewhere_is_no_sentinel_lookup() -> None:
    # ERR-007's hostile user id '../x' (..%2Fx): Starlette decodes it before routing, so
    # the 404 says no route matched, not that the sentinel session id was looked up.
    watch = Watch(roles=roles_of(CANONICAL, BASE))
    watch.judge([_exchange("DELETE", "/users/..%2Fx/sessions/undefined", "delete")], "ERR-007")
    assert watch.seen.get("SENT-001", []) == []
    watch.judge([_exchange("DELETE", "/users/u1/sessions/undefined", "delete")], "ERR-007")
    (finding,) = watch.seen["SENT-001"]
    assert "named the sentinel session id 'undefined' and was answered 404" in finding.message
