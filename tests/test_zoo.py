"""The zoo: every mutant is caught by every clause it declares, at three seeds; a full run
shows what else it trips; the reference and the conformant variants trip nothing; every
MUST clause has a mutant proving it can fail; the score command finds all of that out
through the real CLI over a real socket."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance.client import ContractClient
from conformance.context import Settings
from conformance.records import Verdict
from conformance.reference import ReferenceApp, ReferenceConfig
from conformance.registry import registry
from conformance.runner import run_clause, select
from conformance.serving import serve_in_thread
from conformance.target import Target
from fixtures import score
from fixtures.broken import (
    ORIGIN,
    TOKEN,
    Mutant,
    check_mutant,
    identity,
    incidents,
    isolation,
    lifecycle,
    polling,
    sentinels,
    streaming,
    validation,
)
from fixtures.broken import errors as error_mutants
from fixtures.broken.zoo import Specimen, conformant, find, unlisted, verdicts, zoo

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (3, 1009, 77777)
FULL_RUN_SEED = SEEDS[0]
PROVISION_SECONDS = 0.1
READY_TIMEOUT = 2.0
#: Examples per property for the undeclared clauses of a full run (declared ones: 25).
FULL_RUN_EXAMPLES = 3
#: Runs at a time (processes: hypothesis is not meant to run in threads).
FULL_RUN_WORKERS = 4

#: The issue's list of faults no single request shows, and the mutant that is each.
SUBTLE: dict[str, type[Mutant]] = {
    "progress that goes back once": polling.PercentPerPhase,
    "Ready that flaps": polling.ReadyFlaps,
    "a session invisible to run for a moment after create": lifecycle.RunPathMissesNewSessions,
    "an id generator that collides only under concurrency": identity.RacyCounterIds,
    "another user's session readable": isolation.LookupByIdOnly,
    "another user's session deletable": isolation.DeleteByIdOnly,
    "a deleted session still runnable": lifecycle.DeletedSessionStillRuns,
    "sentinels caught only in lower case": sentinels.CaseSensitiveSentinels,
    "unknown fields silently ignored": validation.IgnoresUnknownCreateFields,
    "valid bodies rejected": validation.TtlOnlyWithoutMetadata,
    "an error event inside a 200 SSE stream": streaming.ErrorsInsideTheStream,
    "a second delete answered 200": lifecycle.SecondDeleteAnswers200,
    "a Location header naming another id": incidents.LocationNamesAnotherId,
}
#: CONTRACT.md's five incidents, and the mutants that reproduce each.
INCIDENTS: dict[str, tuple[type[Mutant], ...]] = {
    "create route missing behind a proxy": (incidents.CreateRouteMissingBehindProxy,),
    "run with an id nobody created": (
        incidents.RunAcceptsMadeUpIds,
        incidents.RunCreatesMadeUpIds,
    ),
    "two id generators": (incidents.TwoIdGeneratorsDisagree, identity.NullTopLevelId),
    "a handler reading an attribute the model lacks": (incidents.CreateReadsMissingAttribute,),
    "FastAPI 422s, HTML error pages, status?id=undefined": (
        incidents.FastAPIDefault422,
        incidents.HtmlErrorPages,
        incidents.StatusAnswersAnyId,
    ),
}
#: Mutants checked over a real socket: the incidents, and the faults that live in timing,
#: concurrency, streaming or headers, where a real server differs most from ASGI in-process.
OVER_A_SOCKET = (
    *incidents.MUTANTS,
    identity.RacyCounterIds,
    identity.LaggingReads,
    lifecycle.RunPathMissesNewSessions,
    streaming.FramesWithoutBlankLine,
    error_mutants.HtmlNotFound,
)


def _settings(seed: int) -> Settings:
    return Settings(seed=seed, token=TOKEN, cors_origin=ORIGIN, ready_timeout=READY_TIMEOUT)


def _app(cls: type[ReferenceApp]) -> ReferenceApp:
    return cls(
        ReferenceConfig(provision_seconds=PROVISION_SECONDS, token=TOKEN, cors_origin=ORIGIN)
    )


def _ids(specimens: tuple[Specimen, ...]) -> list[str]:
    return [s.name for s in specimens]


# -- the registry of mutants --------------------------------------------------------------


def test_every_mutant_of_the_package_is_in_the_zoo() -> None:
    assert unlisted() == [], "Mutant subclasses in no MUTANTS or CONFORMANT list"
    assert len(zoo()) >= 80


@pytest.mark.parametrize("specimen", zoo(), ids=_ids(zoo()))
def test_every_mutant_declares_real_clauses_its_fault_and_what_it_mirrors(
    specimen: Specimen,
) -> None:
    known = set(registry().ids())
    assert specimen.trips, f"{specimen.name} declares no clause in trips"
    assert set(specimen.trips) <= known, f"unknown clause ids in {specimen.name}.trips"
    assert specimen.fault, f"{specimen.name}'s docstring does not state its fault"
    assert specimen.mirrors, f"{specimen.name}'s docstring has no 'Mirrors:' paragraph"
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", specimen.name)


def test_every_must_clause_has_a_mutant_proving_it_can_fail() -> None:
    tripped = {clause for specimen in zoo() for clause in specimen.trips}
    server_musts = [c.id for c in registry().of_subject("server") if c.level == "MUST"]
    unproven = [clause for clause in server_musts if clause not in tripped]
    assert unproven == [], f"MUST clauses no mutant trips (add one to fixtures/broken): {unproven}"


@pytest.mark.parametrize("fault", SUBTLE)
def test_the_faults_no_single_request_shows_are_in_the_zoo(fault: str) -> None:
    names = {specimen.mutant for specimen in zoo()}
    assert SUBTLE[fault] in names
    assert SUBTLE[fault].trips


@pytest.mark.parametrize("incident", INCIDENTS)
def test_the_five_incidents_are_in_the_zoo(incident: str) -> None:
    names = {specimen.mutant for specimen in zoo()}
    for mutant in INCIDENTS[incident]:
        assert mutant in names
        assert "incident" in (mutant.__doc__ or "")


# -- caught, at every seed; a full run; the controls ---------------------------------------
#
# The runs behind these tests are made up front, FULL_RUN_WORKERS processes at a time, by
# the module fixture `runs` (only those the selected tests need): a run mostly waits for
# sessions to provision, so they overlap well even on two cores. Each is in-process, one
# app per run, as `session-conformance check` would run it.

#: A run: (name, seed, which clauses) -> clause id -> (verdict, summary).
Runs = dict[tuple[str, int, str], dict[str, tuple[str, str]]]
#: Which clauses: the mutant's declared ones at the default examples; every other server
#: clause at FULL_RUN_EXAMPLES; or all of them (the controls) at the default examples.
TRIPS, OTHERS, ALL = "trips", "others", "all"
#: The same runs in one lane (``--workers 1``): each verdict must be the default's.
ONE_LANE = " in one lane"
#: The first test to need `runs` waits for all of them (about 3 to 6 minutes on 2 cores).
RUNS_TIMEOUT = pytest.mark.timeout(1800)


def _keys(item: pytest.Item) -> list[tuple[str, int, str]]:
    params = getattr(getattr(item, "callspec", None), "params", {})
    name = getattr(item, "originalname", "")
    if name == "test_each_mutant_fails_each_clause_it_declares":
        return [(params["mutant"].__name__, params["seed"], TRIPS)]
    if name == "test_a_full_run_trips_the_declared_clauses_and_shows_the_others":
        specimen = params["specimen"]
        return [(specimen.name, FULL_RUN_SEED, TRIPS), (specimen.name, FULL_RUN_SEED, OTHERS)]
    if name == "test_the_reference_trips_nothing":
        return [("ReferenceApp", params["seed"], ALL)]
    if name == "test_the_conformant_variants_trip_nothing":
        return [(params["variant"].__name__, FULL_RUN_SEED, ALL)]
    if name == "test_one_lane_or_the_default_the_same_verdicts":
        subject, seed, which = params["subject"], params["seed"], params["which"]
        return [(subject, seed, which), (subject, seed, which + ONE_LANE)]
    return []


def _job(name: str, which: str) -> tuple[list[str] | None, int, int | None]:
    """The clauses of one run, its examples per property and its lanes (None: the run's
    default)."""
    workers = 1 if which.endswith(ONE_LANE) else None
    which = which.removesuffix(ONE_LANE)
    if which == ALL:
        return None, 25, workers
    trips = find(name).trips
    if which == TRIPS:
        return [*getattr(find(name).mutant, "provoked_by", ()), *trips], 25, workers
    others = [c.id for c in registry().of_subject("server") if c.id not in trips]
    return others, FULL_RUN_EXAMPLES, workers


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Every run the selected tests read. Under pytest-xdist each worker collects every
    test, so the first worker to need the runs makes them and leaves them in the session's
    shared temporary folder; the others wait for it (a file lock) and read them, instead of
    making them all again at once on the same cores."""
    wanted = sorted({key for item in request.session.items for key in _keys(item)})
    if not hasattr(request.config, "workerinput"):  # one process: nothing to share
        return _make_runs(wanted)
    shared = tmp_path_factory.getbasetemp().parent / "zoo-runs.json"
    with open(shared.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shared.exists():
            made = json.loads(shared.read_text(encoding="utf-8"))
            return {(name, seed, which): {c: (v, s) for c, (v, s) in verdicts.items()}
                    for name, seed, which, verdicts in made}  # fmt: skip
        runs = _make_runs(wanted)
        rows = [[*key, verdicts] for key, verdicts in runs.items()]
        shared.write_text(json.dumps(rows), encoding="utf-8")
        return runs


def _make_runs(wanted: list[tuple[str, int, str]]) -> Runs:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=FULL_RUN_WORKERS, mp_context=context) as pool:
        futures = {}
        for name, seed, which in wanted:
            clauses, examples, workers = _job(name, which)
            futures[(name, seed, which)] = pool.submit(
                verdicts,
                name,
                seed=seed,
                max_examples=examples,
                clauses=clauses,
                workers=workers,
                provision_seconds=PROVISION_SECONDS,
                ready_timeout=READY_TIMEOUT,
            )
        return {key: future.result() for key, future in futures.items()}


@RUNS_TIMEOUT
@pytest.mark.slow  # the tests that read `runs`: hundreds of clause runs
@pytest.mark.parametrize(
    ("mutant", "clause_id", "seed"),
    [
        pytest.param(s.mutant, clause, seed, id=f"{clause}-{s.name}-{seed}")
        for s in zoo()
        for clause in s.trips
        for seed in SEEDS
    ],
)
def test_each_mutant_fails_each_clause_it_declares(
    mutant: type[Mutant], clause_id: str, seed: int, runs: Runs
) -> None:
    verdict, summary = runs[(mutant.__name__, seed, TRIPS)][clause_id]
    assert verdict == "failed", (
        f"{mutant.__name__} escaped {clause_id} at seed {seed}: {verdict}: {summary}"
    )


def test_a_failure_on_a_mutant_carries_its_evidence() -> None:
    for specimen in zoo()[:: max(1, len(zoo()) // 12)]:
        result = check_mutant(
            specimen.mutant,
            specimen.trips[0],
            seed=SEEDS[0],
            provision_seconds=PROVISION_SECONDS,
            ready_timeout=READY_TIMEOUT,
        )
        assert result.verdict is Verdict.FAILED, (specimen.name, result.summary)
        finding = result.findings[0]
        assert finding.expected
        assert finding.exchange is not None or finding.steps


@RUNS_TIMEOUT
@pytest.mark.slow  # the tests that read `runs`: hundreds of clause runs
@pytest.mark.parametrize("specimen", zoo(), ids=_ids(zoo()))
def test_a_full_run_trips_the_declared_clauses_and_shows_the_others(
    specimen: Specimen, runs: Runs, record_property: pytest.RecordProperty
) -> None:
    declared = {
        c: v for c, v in runs[(specimen.name, FULL_RUN_SEED, TRIPS)].items() if c in specimen.trips
    }
    others = runs[(specimen.name, FULL_RUN_SEED, OTHERS)]
    assert len(declared) + len(others) == len(registry().of_subject("server"))
    missed = {c: v for c, v in declared.items() if v[0] != "failed"}
    assert missed == {}, f"{specimen.name}: at seed {FULL_RUN_SEED} it escaped {missed}"
    also = sorted(c for c, (verdict, _) in others.items() if verdict == "failed")
    record_property("also_trips", " ".join(also))
    print(f"{specimen.name} trips {' '.join(specimen.trips)}; also {' '.join(also) or 'nothing'}")


@RUNS_TIMEOUT
@pytest.mark.slow  # the tests that read `runs`: hundreds of clause runs
@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_trips_nothing(seed: int, runs: Runs) -> None:
    verdicts = runs[("ReferenceApp", seed, ALL)]
    assert len(verdicts) == len(registry().of_subject("server"))
    bad = {c: v for c, v in verdicts.items() if v[0] in ("failed", "error")}
    assert bad == {}


@RUNS_TIMEOUT
@pytest.mark.slow  # the tests that read `runs`: hundreds of clause runs
@pytest.mark.parametrize("variant", conformant(), ids=[c.__name__ for c in conformant()])
def test_the_conformant_variants_trip_nothing(variant: type[Mutant], runs: Runs) -> None:
    failed = {
        c: v for c, v in runs[(variant.__name__, FULL_RUN_SEED, ALL)].items() if v[0] == "failed"
    }
    assert failed == {}


def _same_verdict_runs() -> list[Any]:
    """The reference's every clause at each seed, each conformant variant's at the seed
    of the full run, each mutant's declared clauses at each seed. (Not a mutant's other
    clauses: there a fault may show or not with timing and load, whoever sends the
    requests: DeferredCommitUnderLoad answers creates before writing them only while
    others are in flight, PercentPerPhase rewrites a session's second poll whether or not
    its 0.1 s of provisioning are over.)"""
    params = [pytest.param("ReferenceApp", seed, ALL, id=f"ReferenceApp-{seed}") for seed in SEEDS]
    params += [
        pytest.param(variant.__name__, FULL_RUN_SEED, ALL, id=variant.__name__)
        for variant in conformant()
    ]
    params += [
        pytest.param(specimen.name, seed, TRIPS, id=f"{specimen.name}-{seed}")
        for specimen in zoo()
        for seed in SEEDS
    ]
    return params


@RUNS_TIMEOUT
@pytest.mark.slow  # the tests that read `runs`: hundreds of clause runs
@pytest.mark.parametrize(("subject", "seed", "which"), _same_verdict_runs())
def test_one_lane_or_the_default_the_same_verdicts(
    subject: str, seed: int, which: str, runs: Runs
) -> None:
    """Clauses decided at once in lanes decide as they do one after another: the run's
    default lanes and ``--workers 1`` give each clause the same verdict."""
    default = {c: verdict for c, (verdict, _) in runs[(subject, seed, which)].items()}
    one_lane = {c: verdict for c, (verdict, _) in runs[(subject, seed, which + ONE_LANE)].items()}
    differ = {c: (default[c], one_lane.get(c)) for c in default if default[c] != one_lane.get(c)}
    assert len(default) == len(one_lane)
    assert differ == {}, f"{subject} at seed {seed}: (default, one lane) verdicts differ"


# -- over a real socket -------------------------------------------------------------------


@pytest.mark.socket
@pytest.mark.slow
@pytest.mark.parametrize("mutant", OVER_A_SOCKET, ids=[m.__name__ for m in OVER_A_SOCKET])
def test_caught_over_a_real_socket(mutant: type[Mutant]) -> None:
    with serve_in_thread(_app(mutant)) as server, Target(server.url, token=TOKEN) as target:
        for clause in select(list(mutant.trips)):
            result = run_clause(clause, ContractClient(target), _settings(SEEDS[0]))
            assert result.verdict is Verdict.FAILED, (clause.id, result.summary)


# -- the score: the real CLI, a real socket -------------------------------------------------


@pytest.mark.socket
@pytest.mark.slow
def test_the_score_runs_the_cli_against_a_served_mutant(tmp_path: Path) -> None:
    markdown = tmp_path / "score.md"
    code = score.main(
        [
            "--mutant",
            "HtmlErrorPages",
            "--scope",
            "trips",
            "--jobs",
            "1",
            "--max-examples",
            "5",
            "--markdown",
            str(markdown),
        ]
    )
    assert code == 0
    text = markdown.read_text(encoding="utf-8")
    assert "mutation score: 1/1 mutants caught (100 %)" in text
    assert "| `HtmlErrorPages` | incidents | caught |" in text
    assert "| `ReferenceApp` | reference | clean |" in text
    assert "python -m fixtures.score --mutant HtmlErrorPages" in text


@pytest.mark.socket
@pytest.mark.slow
def test_the_score_fails_on_a_missed_mutant_and_on_a_false_positive() -> None:
    settings = score.ScoreSettings(scope="trips", jobs=1, max_examples=3)
    missed = score.score_one(
        score.Subject("NotBroken", "test", polling.FailsWithReason, ("POLL-005",), False), settings
    )
    assert missed.verdict == "MISSED"
    assert missed.missed_trips == ("POLL-005",)
    assert not missed.ok
    false_positive = score.score_one(
        score.Subject("Control", "test", lifecycle.CreateAnswers200, (), True), settings
    )
    assert false_positive.verdict == "FALSE POSITIVE"
    assert not false_positive.ok


def test_the_committed_score_covers_the_whole_zoo() -> None:
    text = (ROOT / "docs" / "mutation-score.md").read_text(encoding="utf-8")
    stale = [s.name for s in zoo() if f"| `{s.name}` |" not in text]
    assert stale == [], (
        f"docs/mutation-score.md lacks {stale}: regenerate it with "
        "`python -m fixtures.score --markdown docs/mutation-score.md`"
    )
    assert f"mutation score: {len(zoo())}/{len(zoo())} mutants caught (100 %)" in text
