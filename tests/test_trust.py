"""Trust on backends nobody here wrote (issue 13): what the harness itself never does.

The independent conformant servers are checked in ``tests/test_independent.py``; this
module pins the harness's own manners: every session it makes belongs to a user of its
namespace, and the conventions CONTRACT.md's "Precisions" allow are accepted.
"""

from __future__ import annotations

import tomllib

import pytest

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.leftovers import HARNESS_USERS
from conformance.mutations import Mutation
from conformance.profile import BUILTINS, Profile, parse_profile
from conformance.records import Verdict
from conformance.reference import ReferenceConfig
from conformance.reference.models import FieldError
from conformance.runner import RunFinished, run, run_clause, select
from conformance.target import Target
from fixtures.broken.incidents import IgnoresUnknownRunFields, RunCreatesMadeUpIds
from fixtures.layouts.chat_header import ChatHeaderThreePlaces, NestedIdMintedTwice


class LenientAutoCreating(RunCreatesMadeUpIds, IgnoresUnknownRunFields):
    """Creates whatever a run names, and runs bodies with fields it does not know."""


@pytest.mark.parametrize("seed", [3, 1009])
def test_no_session_is_made_for_a_user_outside_the_namespace(seed: int) -> None:
    """A backend that creates whatever a run names (incident 2) shows every user id the
    harness acts as: each must be one of its own (``sc-``), never a possibly real user.
    Lenient about unknown fields too, so that invalid run bodies reach the store."""
    app = LenientAutoCreating(ReferenceConfig(provision_seconds=0.05))
    users: set[str] = set()
    insert = app.store.insert

    def recording(user_id: str, *args: object, **kwargs: object) -> object:
        users.add(user_id)
        return insert(user_id, *args, **kwargs)  # type: ignore[arg-type]

    app.store.insert = recording  # type: ignore[method-assign]
    with Target(app=app) as target:
        events = list(run(target, Settings(seed=seed, max_examples=10)))
    assert isinstance(events[-1], RunFinished)
    assert users, "the check made no session at all"
    outside = sorted(user for user in users if not user.startswith(HARNESS_USERS))
    assert outside == []


THREE_PLACES = ("/session_id", "/session/session_id", "/chatSession/sessionId")


def _three_places_profile() -> Profile:
    """chat-header, with the create answer naming the session in three places."""
    data = tomllib.loads((BUILTINS / "chat-header.toml").read_text())
    data["roles"]["create"]["created_id"] = list(THREE_PLACES)
    return parse_profile(data, origin="test", name="chat-three-places")


@pytest.mark.parametrize(
    ("app_type", "verdict"),
    [(ChatHeaderThreePlaces, Verdict.PASSED), (NestedIdMintedTwice, Verdict.FAILED)],
)
def test_every_place_a_profile_names_for_the_id_is_compared(
    app_type: type[ChatHeaderThreePlaces], verdict: Verdict
) -> None:
    app = app_type(ReferenceConfig(provision_seconds=0.05))
    (clause,) = select(["ID-001"])
    with Target(app=app) as target:
        result = run_clause(
            clause, ContractClient(target, _three_places_profile()), Settings(seed=3)
        )
    assert result.verdict is verdict, result.summary
    if verdict is Verdict.FAILED:
        assert "/chatSession/sessionId" in result.summary


def test_a_422_may_point_at_the_object_holding_a_missing_property() -> None:
    """CONTRACT.md, "Precisions": the JSON Schema validators' convention."""
    mutation = Mutation("missing", "/new_message/parts/0/text", {}, "text dropped")
    assert mutation.holder == "/new_message/parts/0"
    assert Mutation("wrong_type", "/ttl_seconds", {}, "x").holder is None


class AcceptsAnyRunUser(LenientAutoCreating):
    """Also runs (and so creates) for user ids that break their pattern."""

    def validate_run(self, body: object) -> list[FieldError]:
        return [e for e in super().validate_run(body) if not e.path.startswith("/user_id")]


def test_sessions_made_for_users_outside_the_namespace_are_named_in_the_notes() -> None:
    """The harness never deletes another user's session; what its probes made for user
    ids outside ``sc-`` (a lax backend auto-creating for ``' 0'``) is named instead."""
    app = AcceptsAnyRunUser(ReferenceConfig(provision_seconds=0.05))
    with Target(app=app) as target:
        events = list(run(target, Settings(seed=3, max_examples=10), clause_ids=["VAL-005"]))
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    named = [n for n in finished.report.notes if n.startswith("left alone: VAL-005")]
    assert named, finished.report.notes
    assert "outside the harness's namespace" in named[0]
