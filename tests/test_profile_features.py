"""The profile format's features for real vendors (issue 18), one test each, on the
translation alone: id formats, layouts with no users, bodies for body-less roles, empty
success answers, streams whose frames are selected by ``event:`` name, reshaped messages
and counts of a missing array; value maps, string messages, dropped values a layout
would refill, and raw bodies that keep the ids' places. docs/profiles.md shows each with
an example."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from conformance.client import run_body
from conformance.context import Settings
from conformance.kernel import missing_reason as _missing
from conformance.profile import (
    NotInLayout,
    Profile,
    ProfileError,
    load_profile,
    outgoing,
    parse_profile,
    view_of,
)
from conformance.records import Exchange, RequestRecord, ResponseRecord
from conformance.registry import registry

BASE: dict[str, Any] = {
    "readiness": "immediate",
    "roles": {"create": {"method": "POST", "path": "/things"}},
}


def _profile(**extra: Any) -> Profile:
    return parse_profile({**BASE, **extra}, origin="test.toml", name="test")


def _answer(profile: Profile, role: str, status: int, body: bytes, media: str = "") -> Exchange:
    headers = (("content-type", media),) if media else ()
    route = profile.route(role)
    return Exchange(
        0,
        RequestRecord(route.method, "http://t" + route.template, ()),
        ResponseRecord(status, headers, body),
    )


# -- id formats ------------------------------------------------------------------------------


def test_a_uuid_format_invents_uuids_from_the_seed() -> None:
    ids = load_profile("langgraph").session_ids
    first, again = ids.invent(random.Random(7)), ids.invent(random.Random(7))
    assert first == again
    assert ids.admits(first)
    assert not ids.admits("sc-0123456789abcdef")


def test_the_default_format_invents_the_same_ids_as_before() -> None:
    rng = random.Random(3)
    expected = f"sc-{random.Random(3).getrandbits(64):016x}"
    assert _profile().session_ids.invent(rng) == expected


def test_a_pattern_format_invents_the_first_form_it_admits() -> None:
    ids = _profile(session_id_format="[0-9]{18}").session_ids
    made = ids.invent(random.Random(1))
    assert made.isdigit()
    assert len(made) == 18


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[", "session_id_format: '[' is not a regex"),
        ("x{40}", "admits none of the ids the harness invents"),
        ("", "session_id_format: '' is not an id format"),
    ],
)
def test_a_bad_id_format_is_one_line_naming_the_key(value: str, message: str) -> None:
    with pytest.raises(ProfileError, match="session_id_format") as caught:
        _profile(session_id_format=value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


# -- no users --------------------------------------------------------------------------------


def test_users_false_sends_no_user_id_and_drops_the_users_feature() -> None:
    profile = _profile(users=False)
    assert not profile.users
    assert not profile.canonical
    request = outgoing(
        profile,
        "create",
        method=None,
        user_id="sc-user-1",
        session_id=None,
        body={},
        raw=None,
        headers={},
    )
    assert request.path == "/things"
    assert request.params == ()
    assert b"sc-user-1" not in (request.content or b"")


def test_users_false_makes_isolation_and_user_validation_not_applicable() -> None:
    profile = load_profile("langgraph")
    clauses = {c.id: c for c in registry().clauses}
    for clause_id in ("ISO-001", "ISO-003", "ISO-004", "ISO-005", "VAL-005"):
        reason = _missing(clauses[clause_id], profile, Settings())
        assert reason is not None
        assert "no users" in reason
    assert _missing(clauses["ISO-001"], load_profile("canonical"), Settings()) is None


def test_users_false_refuses_a_user_id_place() -> None:
    roles = {"create": {"method": "POST", "path": "/u/{user_id}/things"}}
    with pytest.raises(ProfileError, match=r"roles\.create\.user_id: users = false"):
        parse_profile({**BASE, "users": False, "roles": roles}, origin="t.toml", name="t")


# -- bodies for body-less roles, empty answers -----------------------------------------------


def test_a_list_with_constants_sends_them_as_its_body() -> None:
    profile = load_profile("langgraph")
    request = outgoing(
        profile,
        "list",
        method=None,
        user_id="u",
        session_id=None,
        body=None,
        raw=None,
        headers={},
    )
    assert (request.method, request.path) == ("POST", "/threads/search")
    assert json.loads(request.content or b"") == {"limit": 1000}


def test_an_empty_204_reads_as_the_fields_the_profile_implies() -> None:
    profile = load_profile("langgraph")
    view = view_of(profile, "delete", _answer(profile, "delete", 204, b""))
    assert view is not None
    assert (view.status, view.body) == (200, {"ok": True})
    assert [p for p, _ in view.absent] == ["/session_id"]


# -- messages and counts ---------------------------------------------------------------------


def test_a_message_is_wrapped_and_its_parts_joined_into_content() -> None:
    profile = load_profile("langgraph")
    request = outgoing(
        profile,
        "run",
        method=None,
        user_id=None,
        session_id=None,
        body=run_body("u", "0b0c7a8e-35a4-4c39-9d71-7df0d0e1f2a3", "hi"),
        raw=None,
        headers={},
    )
    assert request.path == "/threads/0b0c7a8e-35a4-4c39-9d71-7df0d0e1f2a3/runs/wait"
    assert json.loads(request.content or b"") == {
        "input": {"messages": [{"role": "user", "content": "hi"}]},
        "assistant_id": "echo",
    }


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "parts": [{"text": "hi"}], "tool_metadata": 1},
        {"role": "user", "parts": [{"text": "hi", "x": 1}]},
        {"role": "user", "parts": []},
        {"parts": [{"text": "hi"}]},
        "hi",
    ],
)
def test_a_message_the_form_cannot_carry_is_never_sent_as_another(message: object) -> None:
    body = {**run_body("u", "0b0c7a8e-35a4-4c39-9d71-7df0d0e1f2a3"), "new_message": message}
    with pytest.raises(NotInLayout, match="message is written reshaped"):
        outgoing(
            load_profile("langgraph"),
            "run",
            method=None,
            user_id=None,
            session_id=None,
            body=body,
            raw=None,
            headers={},  # type: ignore[arg-type]
        )


def test_turns_count_human_messages_and_a_new_thread_has_none() -> None:
    profile = load_profile("langgraph")
    fresh = b'{"thread_id":"t","created_at":"2026-12-04T00:00:00Z","metadata":{},"values":null}'
    used = (
        b'{"thread_id":"t","created_at":"2026-12-04T00:00:00Z","metadata":{},"values":'
        b'{"messages":[{"type":"human","content":"a"},{"type":"ai","content":"echo: a"}]}}'
    )
    for body, turns in ((fresh, 0), (used, 1)):
        view = view_of(profile, "get", _answer(profile, "get", 200, body, "application/json"))
        assert view is not None
        assert isinstance(view.body, dict)
        assert view.body["session"]["turns"] == turns


# -- streams ---------------------------------------------------------------------------------


def test_stream_frames_are_selected_by_event_name_and_one_frame_gives_many_events() -> None:
    profile = load_profile("langgraph")
    stream = (
        b'event: metadata\ndata: {"run_id":"r","attempt":1}\n\n'
        b'event: updates\ndata: {"echo":{"messages":[{"id":"1","type":"ai","content":"a"},'
        b'{"id":"2","type":"ai","content":"b"}]}}\n\n'
    )
    view = view_of(
        profile, "run_stream", _answer(profile, "run_stream", 200, stream, "text/event-stream")
    )
    assert view is not None
    assert view.stream is not None
    frames = [
        json.loads(line[6:]) for line in view.stream.split(b"\n") if line.startswith(b"data: ")
    ]
    assert frames == [
        {"id": "1", "author": "ai", "content": {"role": "ai", "parts": [{"text": "a"}]}},
        {"id": "2", "author": "ai", "content": {"role": "ai", "parts": [{"text": "b"}]}},
    ]


# -- value maps, string messages, dropped values (items 11, 12) -------------------------------

MAPS: dict[str, Any] = {"phase": {"PullingImage": "Provisioning", "Ready": "Ready"}}


def test_a_value_map_gives_the_contracts_value_and_leaves_others() -> None:
    profile = _profile(
        value_maps=MAPS,
        roles={
            "create": {"method": "POST", "path": "/things"},
            "status": {
                "method": "GET",
                "path": "/things/{session_id}",
                "response": {"": "", "/phase": {"from": "/state", "map": "phase"}},
            },
        },
    )
    for raw, phase in ((b"PullingImage", "Provisioning"), (b"Ready", "Ready"), (b"Odd", "Odd")):
        body = b'{"ok":true,"state":"' + raw + b'"}'
        view = view_of(profile, "status", _answer(profile, "status", 200, body, "application/json"))
        assert view is not None
        assert isinstance(view.body, dict)
        assert view.body["phase"] == phase
        assert view.body["state"] == raw.decode()  # the raw stays as it was


def test_an_envelope_code_map_reads_the_targets_codes_as_the_contracts() -> None:
    codes = {"codes": {"session_not_found": "SESSION_NOT_FOUND"}}
    profile = _profile(value_maps=codes, envelope={"kind": "problem+json", "code_map": "codes"})
    body = (
        b'{"status":404,"title":"Not found","detail":"no such session","code":"session_not_found"}'
    )
    view = view_of(
        profile, "create", _answer(profile, "create", 404, body, "application/problem+json")
    )
    assert view is not None
    assert isinstance(view.body, dict)
    assert view.body["error"] == "SESSION_NOT_FOUND"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {
                "roles": {
                    "create": {
                        "method": "POST",
                        "path": "/t",
                        "response": {"/phase": {"from": "/p", "map": "nope"}},
                    }
                }
            },
            "roles.create.response./phase.map: no value_maps.nope in this profile (value maps: none)",
        ),
        (
            {"envelope": {"kind": "fastapi", "code_map": "nope"}},
            "envelope.code_map: no value_maps.nope",
        ),
        (
            {"value_maps": {"phase": {"Up": ""}}},
            "value_maps.phase.Up: '' is not the contract's value",
        ),
        (
            {
                "roles": {
                    "run": {
                        "method": "POST",
                        "path": "/r",
                        "message": "body:/m",
                        "message_form": {"string": True, "wrap": True},
                    }
                }
            },
            "roles.run.message_form: string = true: the message travels as its text alone",
        ),
    ],
)
def test_a_bad_value_map_or_message_form_is_one_line_naming_the_key(
    extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ProfileError) as caught:
        _profile(**extra)
    assert message in str(caught.value)
    assert str(caught.value).startswith("test.toml: ")
    assert "\n" not in str(caught.value)


def _string_form(**run: Any) -> Profile:
    role = {"method": "POST", "path": "/chat", "message": "body:/message", **run}
    return _profile(roles={"create": BASE["roles"]["create"], "run": role})


def _run(profile: Profile, body: dict[str, Any]) -> bytes:
    request = outgoing(profile, "run", method=None, user_id=None, session_id=None, body=body,
                       raw=None, headers={})  # fmt: skip
    return request.content or b""


def test_a_string_message_form_sends_the_text_alone() -> None:
    profile = _string_form(message_form={"string": True})
    sent = json.loads(_run(profile, run_body("u", "s", "hi")))
    assert sent == {"user_id": "u", "session_id": "s", "message": "hi"}


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "parts": [{"text": "hi"}], "tool_metadata": 1},  # an unknown field
        {"role": "model", "parts": [{"text": "hi"}]},  # a role a string has no room for
        {"role": "user", "parts": [{"text": 1}]},
    ],
)
def test_a_message_the_string_form_cannot_carry_is_not_in_the_layout(message: object) -> None:
    profile = _string_form(message_form={"string": True})
    with pytest.raises(NotInLayout, match="message is written reshaped"):
        _run(profile, {**run_body("u", "s"), "new_message": message})


def test_a_dropped_message_the_layout_would_refill_is_not_sent() -> None:
    # The layout's body always gets a message (a constant): a run body without
    # new_message would go out valid, its fault lost in translation.
    profile = _string_form(constants={"/message": "default"})
    body = run_body("u", "s")
    del body["new_message"]
    with pytest.raises(NotInLayout, match="without its message still has /message"):
        _run(profile, body)
    carried = json.loads(_run(_string_form(message_form={"string": True}), body))
    assert carried == {"user_id": "u", "session_id": "s"}  # where nothing refills it, it goes


def test_a_body_that_is_not_json_keeps_the_ids_header_places() -> None:
    request = outgoing(load_profile("chat-header"), "run", method=None, user_id="sc-user-1",
                       session_id="sc-1", body=None, raw=b'{"trunc', headers={})  # fmt: skip
    assert request.headers == {"X-User-ID": "sc-user-1", "X-Session-ID": "sc-1"}
    assert request.content == b'{"trunc'
