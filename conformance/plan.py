"""A run's plan: what is checked, against what, how hard and how wide.

Made once, by ``check`` from its flags or by the pytest plugin from its options, and
handed to :func:`conformance.runner.execute`: the one engine both shells run.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.context import Settings
from conformance.profile import CANONICAL, Profile
from conformance.registry import Clause
from conformance.target import Target

#: The most lanes a run opens, whatever the target.
MAX_WORKERS = 32


@dataclass(frozen=True, slots=True)
class RunPlan:
    """``clauses`` of the registry (in its order) against ``target`` in ``profile``'s
    layout, with ``settings`` (the seed among them), at most ``deadline`` seconds
    (None: no bound), in ``workers`` lanes at once (None: chosen for the target, see
    :func:`conformance.runner.default_workers`)."""

    target: Target
    settings: Settings
    clauses: tuple[Clause, ...]
    profile: Profile = CANONICAL
    deadline: float | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.workers is not None and not 1 <= self.workers <= MAX_WORKERS:
            raise ValueError(f"workers must be between 1 and {MAX_WORKERS}, not {self.workers}")
