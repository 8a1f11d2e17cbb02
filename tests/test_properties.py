"""Property-based probes shrink to the smallest failing input, seeded and replayable."""

from __future__ import annotations

from hypothesis import strategies as st

from conformance.client import ContractClient
from conformance.context import CheckContext, Settings
from conformance.properties import for_all
from conformance.records import Finding
from conformance.reference import create_app
from conformance.registry import registry
from conformance.target import Target


def _ctx(seed: int) -> tuple[CheckContext, Target]:
    target = Target(app=create_app())
    clause = registry().get("LIFE-001")
    return CheckContext(clause, ContractClient(target), Settings(seed=seed), seed), target


def test_a_failure_shrinks_to_the_smallest_input() -> None:
    ctx, target = _ctx(5)
    with target:

        def probe(n: int) -> Finding | None:
            return Finding(f"{n} is too big", "at most 10") if n > 10 else None

        findings = list(for_all(ctx, st.integers(0, 10_000), probe, max_examples=200))
    assert [f.message for f in findings] == ["11 is too big"]


def test_a_text_failure_shrinks_to_a_minimal_text() -> None:
    ctx, target = _ctx(6)
    with target:

        def probe(text: str) -> Finding | None:
            return Finding(repr(text), "no 'x'") if "x" in text else None

        findings = list(for_all(ctx, st.text("abcx", min_size=3), probe, max_examples=200))
    assert [f.message for f in findings] == ["'aax'"]


def test_no_failure_no_finding() -> None:
    ctx, target = _ctx(7)
    with target:
        assert list(for_all(ctx, st.integers(), lambda n: None, max_examples=20)) == []


def test_same_seed_same_examples() -> None:
    def examples(seed: int) -> list[int]:
        ctx, target = _ctx(seed)
        seen: list[int] = []
        with target:
            list(for_all(ctx, st.integers(), lambda n: seen.append(n), max_examples=30))  # type: ignore[func-returns-value]
        return seen

    assert examples(11) == examples(11)
    assert examples(11) != examples(12)
