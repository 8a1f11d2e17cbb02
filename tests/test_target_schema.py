"""The target's own schema (issue 18): a profile's ``openapi`` document, and the clauses
TSCHEMA-001 (a body valid under it, at each declared boundary, is accepted) and
TSCHEMA-002 (a body breaking one of its constraints is 422 in the layout's envelope).

The servers are real FastAPI apps (``fixtures/layouts/own_limits.py``) with limits of
their own, a name of 64 characters and a message of 4000, declared in the document they
serve at ``/openapi.json``: the conformant one, one that refuses the longest message the
document allows, one that crashes on a name one character too long. They live here, not
in the zoo: the zoo's mutants are the reference in the canonical layout, run with the
canonical profile, which names no document (the clauses are not applicable there), and
the reference serves none.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.client import ContractClient
from conformance.context import Settings
from conformance.profile import Profile, ProfileError, load_profile
from conformance.records import ClauseResult, Exchange, Verdict
from conformance.reference import ReferenceApp, ReferenceConfig
from conformance.runner import run_clause, select
from conformance.schema_probes import SchemaProbes
from conformance.serving import serve_in_thread
from conformance.target import Target
from fixtures.layouts import own_limits
from fixtures.layouts.own_limits import (
    CONFORMANT,
    CRASHES_ON_LONG_NAME,
    REFUSES_LONGEST_MESSAGE,
    make_app,
)

PROFILE = Path(own_limits.__file__).with_suffix(".toml")
CLAUSES = ("TSCHEMA-001", "TSCHEMA-002")
#: Which clause each variant must fail (None: none).
FAILS = {
    CONFORMANT: None,
    REFUSES_LONGEST_MESSAGE: "TSCHEMA-001",
    CRASHES_ON_LONG_NAME: "TSCHEMA-002",
}
#: What the failure's summary says.
SAYS = {
    "TSCHEMA-001": "/message of 4000 characters (its maxLength): got 422",
    "TSCHEMA-002": "/name one over maxLength 64: got 500",
}


def _results(
    target: Target, profile: Profile, seed: int = 3
) -> tuple[dict[str, ClauseResult], tuple[Exchange, ...]]:
    mark = target.mark()
    client = ContractClient(target, profile)
    settings = Settings(seed=seed)
    results = {c.id: run_clause(c, client, settings) for c in select(list(CLAUSES))}
    return results, target.since(mark)


def _judged(variant: str, results: dict[str, ClauseResult]) -> None:
    failing = FAILS[variant]
    for clause_id, result in results.items():
        if clause_id == failing:
            assert result.verdict is Verdict.FAILED, result.summary
            assert SAYS[clause_id] in result.summary
            assert result.findings
            assert result.findings[0].exchange is not None
        else:
            assert result.verdict is Verdict.PASSED, (variant, clause_id, result.summary)


@pytest.mark.socket
@pytest.mark.parametrize("variant", list(FAILS))
def test_over_a_real_socket_each_variant_fails_exactly_its_clause(variant: str) -> None:
    with serve_in_thread(make_app(variant)) as server, Target(server.url) as target:
        results, sent = _results(target, load_profile(str(PROFILE)))
    _judged(variant, results)
    assert sent[0].request.url == f"{server.url}/openapi.json"  # recorded like any request


@pytest.mark.parametrize("variant", list(FAILS))
def test_in_process_each_variant_fails_exactly_its_clause(variant: str) -> None:
    with Target(app=make_app(variant)) as target:
        results, _ = _results(target, load_profile(str(PROFILE)))
    _judged(variant, results)


def test_the_boundaries_the_target_declares_are_sent() -> None:
    with Target(app=make_app(CONFORMANT)) as target:
        _, sent = _results(target, load_profile(str(PROFILE)))
    messages = [_at(e, "message") for e in sent if e.request.url.endswith("/v1/chat")]
    names = [_at(e, "name") for e in sent if e.request.url.endswith("/sessions")]
    lengths = {len(m) for m in messages if isinstance(m, str)}
    assert {1, 4000, 4001, 0} <= lengths  # each edge, and one past it
    assert {1, 64, 65, 0} <= {len(n) for n in names if isinstance(n, str)}
    modes = {_at(e, "mode") for e in sent if e.request.url.endswith("/v1/chat")}
    assert {"plain", "verbose", "sc-not-a-member"} <= modes
    by_status = {(_at(e, "message") == "a" * 4001, e.status) for e in sent if e.request.body}
    assert (True, 422) in by_status


def test_the_ids_the_profile_writes_are_never_changed() -> None:
    with Target(app=make_app(CONFORMANT)) as target:
        _, sent = _results(target, load_profile(str(PROFILE)))
    chats = [json.loads(e.request.body) for e in sent if e.request.url.endswith("/v1/chat")]
    made = [e for e in sent if e.request.url.endswith("/sessions") and e.status == 201]
    live = {json.loads(e.response.body)["session_id"] for e in made if e.response}
    pairs = {(c["user_id"], c["session_id"]) for c in chats if isinstance(c, dict)}
    assert len(pairs) == len(CLAUSES)  # one Ready session per clause, in every run body
    assert {session for _, session in pairs} <= live


def test_the_same_seed_sends_the_same_bodies() -> None:
    def bodies(seed: int) -> list[bytes]:
        with Target(app=make_app(CONFORMANT)) as target:
            _, sent = _results(target, load_profile(str(PROFILE)), seed=seed)
        return [e.request.body for e in sent if e.request.method == "POST"]

    first = bodies(11)
    assert first == bodies(11)
    assert first != bodies(12)  # the plain texts are drawn from the seed


def test_without_an_openapi_key_the_clauses_are_not_applicable() -> None:
    with Target(app=ReferenceApp(ReferenceConfig(provision_seconds=0.0))) as target:
        results, sent = _results(target, load_profile("canonical"))
    for result in results.values():
        assert result.verdict is Verdict.NOT_APPLICABLE
        assert "names no OpenAPI document" in result.summary
    assert sent == ()


def test_a_document_that_cannot_be_fetched_is_an_error(tmp_path: Path) -> None:
    profile = _profile_with(tmp_path, '"/no-such-document.json"')
    with Target(app=make_app(CONFORMANT)) as target:
        results, _ = _results(target, profile)
    for result in results.values():
        assert result.verdict is Verdict.ERROR
        assert "/no-such-document.json on the target answered 404" in result.summary
        assert "\n" not in result.summary


def test_a_document_with_no_body_schema_for_the_routes_is_not_applicable(
    tmp_path: Path,
) -> None:
    (tmp_path / "bare.json").write_text(json.dumps({"openapi": "3.1.0", "paths": {}}))
    profile = _profile_with(tmp_path, '"bare.json"')  # a file, next to the profile
    with Target(app=make_app(CONFORMANT)) as target:
        results, _ = _results(target, profile)
    for result in results.values():
        assert result.verdict is Verdict.NOT_APPLICABLE
        assert "no operation POST /v1/users/{user_id}/sessions" in result.summary


def test_a_document_in_a_file_next_to_the_profile(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "own.json").write_text(json.dumps(make_app(CONFORMANT).openapi()))
    profile = _profile_with(tmp_path, '"docs/own.json"')
    assert profile.openapi == f"file:{tmp_path / 'docs' / 'own.json'}"
    with Target(app=make_app(CRASHES_ON_LONG_NAME)) as target:
        results, sent = _results(target, profile)
    _judged(CRASHES_ON_LONG_NAME, results)
    assert not any(e.request.url.endswith("/openapi.json") for e in sent)


def test_a_bad_openapi_key_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"own\.toml: openapi: '' is not a document"):
        _profile_with(tmp_path, '""')


def test_no_body_over_the_bound_is_made() -> None:
    schema = {
        "type": "object",
        "required": ["text"],
        "properties": {
            "text": {"type": "string", "maxLength": 10_000_000},
            "items": {"type": "array", "items": {"type": "string"}, "maxItems": 100_000},
        },
    }
    probes = SchemaProbes({}, schema, rng=random.Random(1), max_bytes=65_536).probes()
    assert probes
    assert max(len(json.dumps(p.body)) for p in probes) <= 65_536
    assert not any("10000000" in p.what for p in probes)


def test_a_pattern_gets_a_matching_base_and_a_value_off_it() -> None:
    schema = {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"}},
        "additionalProperties": False,
    }
    probes = SchemaProbes({}, schema, rng=random.Random(5), max_bytes=4096).probes()
    base = probes[0].body
    assert isinstance(base, dict)
    assert probes[0].valid
    assert len(base["code"]) == 6
    off = [p for p in probes if "off its pattern" in p.what]
    assert off
    assert not off[0].valid


def test_check_through_the_cli_names_the_failed_clause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    with serve_in_thread(make_app(REFUSES_LONGEST_MESSAGE)) as server:
        code = main([
            "check", server.url, "--profile", str(PROFILE), "--clause", *CLAUSES,
            "--report-json", str(report), "--quiet", "--strict",
        ])  # fmt: skip
    verdicts = {c["id"]: c["verdict"] for c in json.loads(report.read_text())["clauses"]}
    assert verdicts == {"TSCHEMA-001": "failed", "TSCHEMA-002": "passed"}
    assert code == 1  # a SHOULD clause: it fails the run under --strict
    assert "TSCHEMA-001 [SHOULD]" in capsys.readouterr().out


def _at(exchange: Exchange, name: str) -> object:
    try:
        body = json.loads(exchange.request.body)
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


def _profile_with(folder: Path, openapi: str) -> Profile:
    text = PROFILE.read_text().replace('openapi = "/openapi.json"', f"openapi = {openapi}")
    path = folder / "own.toml"
    path.write_text(text)
    return load_profile(str(path))
