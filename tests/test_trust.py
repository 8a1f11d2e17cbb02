"""Trust on backends nobody here wrote (issue 13): what the harness itself never does.

The independent conformant servers are checked in ``tests/test_independent.py``; this
module pins the harness's own manners: every session it makes belongs to a user of its
namespace, and the conventions CONTRACT.md's "Precisions" allow are accepted.
"""

from __future__ import annotations

import pytest

from conformance.context import Settings
from conformance.leftovers import HARNESS_USERS
from conformance.reference import ReferenceConfig
from conformance.runner import RunFinished, run
from conformance.target import Target
from fixtures.broken.incidents import IgnoresUnknownRunFields, RunCreatesMadeUpIds


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
