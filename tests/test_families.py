"""The standard tests of every clause family (:data:`tests.families.FAMILIES`): each clause
passes against the reference and the stdlib server at each of the family's seeds, each
mutant fails each clause it declares and says why, and every clause has a mutant.

Test ids name the clause, the mutant and the seed (``AUTH-001-1``,
``VAL-001-IgnoresUnknownCreateFields-1``), so ``pytest -k AUTH-001`` selects them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager

import pytest

from conformance.records import Verdict
from conformance.target import Target
from fixtures.broken import Mutant, check_mutant
from tests.families import FAMILIES, Family


@contextmanager
def _one_family_at_a_time(
    build: Callable[[Family], AbstractContextManager[Target]],
) -> Iterator[Callable[[Family], Target]]:
    """A family's target, built when its first test asks and kept until a test of another
    family asks (a family's tests stand together): one target for all of them."""
    held: dict[str, Target] = {}
    stack = ExitStack()
    try:

        def target(family: Family) -> Target:
            if family.name not in held:
                stack.close()
                held.clear()
                held[family.name] = stack.enter_context(build(family))
            return held[family.name]

        yield target
    finally:
        stack.close()


@pytest.fixture(scope="module")
def references() -> Iterator[Callable[[Family], Target]]:
    """The reference with the family's token, in process."""
    with _one_family_at_a_time(lambda family: family.runs.reference()) as reference:
        yield reference


@pytest.fixture(scope="module")
def stdlib_servers() -> Iterator[Callable[[Family], Target]]:
    """The stdlib server with the family's token, on a random port."""
    with _one_family_at_a_time(lambda family: family.runs.stdlib_server()) as stdlib_server:
        yield stdlib_server


def _clause_runs(seeds: str) -> list[object]:
    """(family, clause id, seed) for each clause of each family, at ``Family.<seeds>``;
    a family's cases stand together, so its target is built once."""
    return [
        pytest.param(f, c, s, id=f"{c}-{s}")
        for f in FAMILIES
        for c in f.clauses
        for s in getattr(f, seeds)
    ]


@pytest.mark.parametrize(("family", "clause_id", "seed"), _clause_runs("reference_seeds"))
def test_passes_against_the_reference(
    references: Callable[[Family], Target], family: Family, clause_id: str, seed: int
) -> None:
    result = family.runs.run(references(family), clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.socket
@pytest.mark.parametrize(("family", "clause_id", "seed"), _clause_runs("stdlib_seeds"))
def test_passes_against_the_stdlib_server(
    stdlib_servers: Callable[[Family], Target], family: Family, clause_id: str, seed: int
) -> None:
    result = family.runs.run(stdlib_servers(family), clause_id, seed)
    assert result.verdict is Verdict.PASSED, result.summary


@pytest.mark.parametrize(
    ("family", "mutant", "clause_id", "seed"),
    [
        # the family's first seed in the inner loop, its others with the slow tests
        pytest.param(f, m, c, s, id=f"{c}-{m.__name__}-{s}", marks=[pytest.mark.slow] if i else [])
        for f in FAMILIES
        for m in f.mutants
        for c in m.trips
        for i, s in enumerate(f.mutant_seeds)
    ],
)
def test_fails_against_its_mutant(
    family: Family, mutant: type[Mutant], clause_id: str, seed: int
) -> None:
    timeout = family.ready_timeouts.get(mutant)
    if timeout is None:
        result = check_mutant(mutant, clause_id, seed=seed)
    else:
        result = check_mutant(mutant, clause_id, seed=seed, ready_timeout=timeout)
    assert result.verdict is Verdict.FAILED, result.summary
    if family.messages is not None:
        message = family.message(mutant, clause_id)
        if family.messages_are_patterns:
            assert re.search(message, result.summary), result.summary
        else:
            assert message in result.summary
    finding = result.findings[0]
    if family.finding_has_expected:
        assert finding.expected
    assert finding.exchange is not None
    if family.check_finding is not None:
        family.check_finding(finding)


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_every_clause_of_the_family_has_a_mutant(family: Family) -> None:
    assert {c for m in family.mutants for c in m.trips} == set(family.clauses)
    if family.clause_count is not None:
        assert len(family.clauses) == family.clause_count
