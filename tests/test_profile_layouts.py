"""Profiles for real vendors (issue 18, items 3, 9-13), each on a real server in its
layout: ids in the path judged by what CONTRACT.md allows there, reproduction scripts
that use the profile's own places (run with bash against a served mutant), a layout
with no list route, vendor phase names mapped onto the contract's, mutations a layout
cannot carry never sent, and raw bodies that keep the ids' header places.

The provisioning layout (``fixtures/layouts/provisioning.py`` and its profile) has ids
in the path in the shape of 32 hex digits, no list route, the message as one string and
the vendor's phase names; the chat-header layout carries the ids in headers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.profile import BUILTINS, Profile, load_profile, parse_profile, view_of
from conformance.records import ClauseResult, Exchange, RequestRecord, ResponseRecord, Verdict
from conformance.reference import ReferenceConfig
from conformance.reporting.sequence import script
from conformance.runner import RunFinished, run, run_clause, select
from conformance.serving import serve_in_thread
from conformance.target import Target
from conformance.transport import ASGIApp
from fixtures.broken.stateful import RunCacheOutlivesDelete
from fixtures.layouts import chat_header, provisioning

TOKEN, ORIGIN = "layout-token-9d41", "https://app.example"


def _config() -> ReferenceConfig:
    return ReferenceConfig(provision_seconds=0.1, token=TOKEN, cors_origin=ORIGIN)


def _clauses(
    app: ASGIApp, profile: Profile, clause_ids: tuple[str, ...], max_examples: int = 10
) -> tuple[dict[str, ClauseResult], tuple[Exchange, ...]]:
    """The clauses' results, and every exchange they sent."""
    settings = Settings(seed=3, max_examples=max_examples, token=TOKEN, cors_origin=ORIGIN)
    with Target(app=app, token=TOKEN) as target:
        mark = target.mark()
        client = ContractClient(target, profile)
        results = {c.id: run_clause(c, client, settings) for c in select(list(clause_ids))}
        return results, target.since(mark)


def _provisioning() -> Profile:
    return load_profile(str(provisioning.PROFILE))


# -- 3: ids in the path ------------------------------------------------------------------------


def test_an_id_in_the_path_is_never_padded() -> None:
    # The run's session id travels in the path: opaque to lookups (CONTRACT.md), so no
    # pattern holds there and VAL-008 pads only the ids it judges (the user's, in the
    # body). A padded id in a path would name no route (a 404 CONTRACT.md allows).
    results, sent = _clauses(provisioning.ProvisioningApp(_config()), _provisioning(), ("VAL-008",))
    assert results["VAL-008"].verdict is Verdict.PASSED, results["VAL-008"].summary
    assert sent, "VAL-008 sent nothing"
    padded = [e for e in sent if re.search(r"/sessions/[^/]*(%0A|%20|%09|%0D)", e.request.url)]
    assert padded == []


# -- 9: reproduction scripts under a profile --------------------------------------------------


class HeaderRunCacheOutlivesDelete(RunCacheOutlivesDelete, chat_header.ChatHeaderThreePlaces):
    """The stateful mutant in the chat-header layout, naming the session in three places."""


def _nested_id_profile(tmp_path: Path) -> Profile:
    """chat-header, its create naming the session at /chatSession/sessionId only."""
    data = tomllib.loads((BUILTINS / "chat-header.toml").read_text(encoding="utf-8"))
    data["roles"]["create"]["created_id"] = ["/chatSession/sessionId"]
    return parse_profile(data, origin=str(tmp_path / "nested.toml"), name="nested")


@pytest.mark.socket
@pytest.mark.slow  # an exploration, then its script run by bash with curl (about 20 s)
@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_script_under_a_profile_replays_in_bash_and_shows_the_bug(tmp_path: Path) -> None:
    app = HeaderRunCacheOutlivesDelete(ReferenceConfig(provision_seconds=0.3, token=TOKEN))
    profile = _nested_id_profile(tmp_path)
    with serve_in_thread(app) as server, Target(server.url, token=TOKEN) as target:
        (clause,) = select(["STATE-001"])
        client = ContractClient(target, profile)
        result = run_clause(clause, client, Settings(seed=1, token=TOKEN))
        assert result.verdict is Verdict.FAILED, result.summary
        finding = result.findings[0]
        text = "\n".join(script(finding.steps, expected=finding.expected))
        # The id is read where the profile's create names it, and sent in its header.
        assert '["chatSession", "sessionId"]' in text
        assert '[\\"session_id\\"]' not in text  # not the contract's place
        assert re.search(r'-H "X-Session-ID: \$\{SESSION_1\}"', text, re.I)
        assert re.search(r'-H "X-User-ID: \$\{USER_\d\}"', text, re.I)
        path = tmp_path / "replay.sh"
        path.write_text(text + "\n", encoding="utf-8")
        env = {**os.environ, "SESSION_CONFORMANCE_TOKEN": TOKEN}
        ran = subprocess.run(
            ["bash", str(path)], capture_output=True, text=True, env=env, timeout=60
        )
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"^SESSION_1=[0-9a-f]{32}$", ran.stdout, re.M), ran.stdout
    # The last step, a run on the deleted session, answers 2xx or 409, not 404: the bug.
    final = ran.stdout.rsplit("HTTP/1.1 ", 1)[1]
    assert final[:3] == str(finding.exchange.status), ran.stdout  # type: ignore[union-attr]
    assert not final.startswith("404"), ran.stdout


def test_a_scripts_comments_name_the_status_curl_shows_and_the_one_the_profile_reads() -> None:
    # LangGraph's create answers 200, which its profile reads as the contract's 201: the
    # comment says both, so that the 200 curl prints is not taken for a discrepancy.
    profile = load_profile("langgraph", {"assistant": "echo"})
    thread = "0b5c1e5e-7a51-4a4b-9d0e-0d1a2b3c4d5e"
    json_type = (("content-type", "application/json"),)

    def exchange(index: int, role: str, method: str, path: str, status: int, body: str) -> Exchange:
        request = RequestRecord(method, f"http://127.0.0.1:8000{path}", json_type, b"{}")
        sent = Exchange(index, request, ResponseRecord(status, json_type, body.encode()))
        return Exchange(index, request, sent.response, view=view_of(profile, role, sent), role=role)

    created = exchange(0, "create", "POST", "/threads", 200, f'{{"thread_id": "{thread}"}}')
    got = exchange(1, "get", "GET", f"/threads/{thread}", 404, '{"detail": "Thread not found"}')
    assert created.status == 201  # the canonical view's status
    lines = script([created, got], expected="200")
    assert "# 1. POST /threads -> answered 200 (the contract's 201)" in lines
    assert "# 2. GET /threads/${SESSION_1} -> answered 404; expected: 200" in lines
    (capture,) = [line for line in lines if line.startswith("SESSION_1=$(")]
    assert '["thread_id"]' in capture  # read where LangGraph's create names the thread
    assert "session_id" not in capture


# -- 10: no list route ------------------------------------------------------------------------


def test_a_layout_without_a_list_route_runs_and_its_list_clauses_do_not_apply() -> None:
    profile = _provisioning()
    assert not profile.has("list")
    settings = Settings(seed=3, max_examples=5, token=TOKEN, cors_origin=ORIGIN)
    clause_ids = ["LIFE-001", "LIFE-002", "LIFE-004", "ISO-005", "POLL-001"]
    with Target(app=provisioning.ProvisioningApp(_config()), token=TOKEN) as target:
        mark = target.mark()
        events = list(run(target, settings, clause_ids=clause_ids, profile=profile))
        first = target.since(mark)[0]
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    verdicts = {r.clause_id: r for r in finished.report.results}
    assert verdicts["LIFE-004"].verdict is Verdict.NOT_APPLICABLE
    assert "no list route" in verdicts["LIFE-004"].summary
    assert verdicts["ISO-005"].verdict is Verdict.NOT_APPLICABLE
    for cid in ("LIFE-001", "LIFE-002", "POLL-001"):
        assert verdicts[cid].verdict is Verdict.PASSED, verdicts[cid].summary
    # The first request is a safe read: a get of a never-created id in the profile's format.
    assert first.request.method == "GET"
    assert re.search(r"/sessions/[0-9a-f]{32}\?user=sc-preflight$", first.request.url)
    assert first.status == 404


# -- 11: value maps ---------------------------------------------------------------------------


def test_vendor_phase_names_read_as_the_contracts_phases() -> None:
    results, sent = _clauses(
        provisioning.ProvisioningApp(_config()), _provisioning(), ("POLL-001", "POLL-003")
    )
    assert {cid: r.verdict for cid, r in results.items()} == dict.fromkeys(
        ("POLL-001", "POLL-003"), Verdict.PASSED
    ), {cid: r.summary for cid, r in results.items()}
    polls = [e for e in sent if e.request.url.split("?")[0].endswith("/status")]
    assert polls
    phases = dict(_provisioning().value_map("phase"))
    for exchange in polls:  # the canonical view has the contract's; the raw stays evidence
        assert exchange.response is not None
        raw = exchange.response.json_or_none()
        view = exchange.body_json()
        assert isinstance(raw, dict)
        assert isinstance(view, dict)
        assert view["phase"] == phases[raw["phase"]]


def test_a_vendor_phase_that_goes_back_fails_poll_003() -> None:
    results, sent = _clauses(
        provisioning.PhaseGoesBack(_config()), _provisioning(), ("POLL-001", "POLL-003")
    )
    assert results["POLL-001"].verdict is Verdict.PASSED, results["POLL-001"].summary
    assert results["POLL-003"].verdict is Verdict.FAILED
    assert "from Provisioning to Starting" in results["POLL-003"].summary
    assert any(e.response is not None and b'"CreatingVolume"' in e.response.body for e in sent)


# -- 12: mutations lost in translation ---------------------------------------------------------


@pytest.mark.slow  # VAL-003 draws ~1000 values per message site the string form cannot carry
def test_an_invalid_body_the_string_form_cannot_carry_is_skipped_never_sent_valid() -> None:
    # An unknown field inside the message, a non-text part, another role: the string
    # form cannot carry them (VAL-003, and ERR-008's unknown field in new_message).
    results, sent = _clauses(
        provisioning.ProvisioningApp(_config()), _provisioning(), ("VAL-003", "ERR-008"), 4
    )
    for cid in ("VAL-003", "ERR-008"):
        result = results[cid]
        assert result.verdict is Verdict.PASSED, result.summary
        assert "drawn value(s) skipped" in result.summary
    assert "message is written reshaped, which has no place" in results["ERR-008"].summary
    runs = [e for e in sent if re.search(r"/run(/stream)?\?", e.request.url)]
    assert runs
    # Every run an invalid-body clause sent was refused: none went out as a valid body.
    assert all(e.status is not None and e.status >= 400 for e in runs), [
        (e.request.body[:80], e.status) for e in runs if (e.status or 0) < 400
    ]


# -- 13: raw bodies keep the header places -----------------------------------------------------


def test_raw_bodies_carry_the_profiles_header_places() -> None:
    results, sent = _clauses(
        chat_header.ChatHeaderApp(_config()), load_profile("chat-header"), ("ERR-003", "ERR-008")
    )
    assert {cid: r.verdict for cid, r in results.items()} == dict.fromkeys(
        ("ERR-003", "ERR-008"), Verdict.PASSED
    ), {cid: r.summary for cid, r in results.items()}
    chats = [e for e in sent if e.request.url.endswith("/v1/chat") and e.request.method == "POST"]
    not_json = [e for e in chats if e.sent_json() is None]
    assert not_json, "no raw body that is not JSON was sent"
    for exchange in chats:
        if exchange.status == 401:
            continue  # the no-token probes: 401 comes before any place
        names = {name.lower() for name, _ in exchange.request.headers}
        assert {"x-user-id", "x-session-id"} <= names, exchange.request
