"""Sharding a run: ``check --shard K/N`` and ``report merge``.

The rule (conformance/shard.py) is deterministic and balanced, covers the selection once
(the passive clauses in every shard) and keeps the stateful clauses together; the real
CLI's shards, merged, give the verdicts of the unsharded run at the same seed, against
the reference and against a mutant whose failures (a non-passive and a passive clause)
survive the merge; bad shards and bad merges are one line and exit 2.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import build_parser, main
from conformance.invariants import CLAUSES as STATEFUL
from conformance.passive import PASSIVE
from conformance.reporting.formats import FORMATS
from conformance.reporting.saved import read_report
from conformance.runner import select
from conformance.serving import serve_in_thread
from conformance.shard import (
    STATEFUL_WEIGHT,
    Shard,
    ShardError,
    parse_shard,
    partition,
    units,
)
from conformance.smoke import smoke_clause_ids
from fixtures.broken import ORIGIN, TOKEN
from fixtures.broken.errors import HtmlNotFound
from tests.test_examples import _commands, _expand

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "examples" / "github-actions" / "nightly-sharded.yml"
EVERY = [clause.id for clause in select(None)]
SEED = "424242"
#: A small selection: two plain clauses, a passive one, one HtmlNotFound fails.
SMALL = ["LIFE-001", "ERR-001", "ERR-006", "ID-001"]


# --- the rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shard"), [("1/1", Shard(1, 1)), ("3/4", Shard(3, 4)), (" 2 / 7 ", Shard(2, 7))]
)
def test_a_shard_is_k_of_n(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard
    assert str(shard) == f"{shard.index}/{shard.count}"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("0/3", "K must be 1..3"), ("4/3", "K must be 1..3"), ("1/0", "N must be at least 1"),
     ("2", "is not K/N"), ("a/b", "is not K/N"), ("-1/3", "is not K/N"), ("", "is not K/N")],
)  # fmt: skip
def test_a_bad_shard_says_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(ShardError, match=re.escape(fragment)):
        parse_shard(text)


SELECTIONS = {
    "every": EVERY,
    "smoke": smoke_clause_ids(),
    "small": [c.id for c in select(SMALL)],
    "stateful-and-two": [c.id for c in select(["STATE-003", "STATE-001", "LIFE-002", "SENT-002"])],
}


@pytest.mark.parametrize("name", sorted(SELECTIONS))
@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_the_shards_cover_the_selection_once_the_passive_clauses_in_each(
    name: str, count: int
) -> None:
    selection = SELECTIONS[name]
    shards = partition(selection, count)
    assert len(shards) == count
    passive = [c for c in selection if c in PASSIVE]
    others = [c for shard in shards for c in shard if c not in PASSIVE]
    assert sorted(others) == sorted(c for c in selection if c not in PASSIVE)  # once each
    position = {c: n for n, c in enumerate(selection)}
    for shard in shards:
        assert [c for c in shard if c in PASSIVE] == passive
        assert list(shard) == sorted(shard, key=position.__getitem__)  # selection order
    stateful = [c for c in selection if c in STATEFUL]
    if stateful:  # one exploration decides them: one shard holds them all
        (holder,) = [shard for shard in shards if stateful[0] in shard]
        assert all(c in holder for c in stateful)
    if partition(selection, count) != shards:
        pytest.fail("the same selection gave other shards")


@pytest.mark.parametrize("count", [2, 3, 4, 5, 8])
def test_the_shards_are_balanced_by_weight(count: int) -> None:
    """Each clause weighs 1, the stateful group what its exploration costs: the shards'
    weights differ by at most the heaviest unit's, and by at most one clause among the
    shards that hold no group."""
    shards = partition(EVERY, count)
    weight = {c: 1 for c in EVERY if c not in PASSIVE}
    heaviest = max(units(EVERY), key=lambda unit: unit.weight)
    assert set(heaviest.clauses) == set(STATEFUL)
    assert heaviest.weight == STATEFUL_WEIGHT
    for c in STATEFUL:
        weight[c] = 0
    weight[STATEFUL[0]] = STATEFUL_WEIGHT
    loads = [sum(weight.get(c, 0) for c in shard) for shard in shards]
    assert max(loads) - min(loads) <= STATEFUL_WEIGHT
    plain = [load for shard, load in zip(shards, loads, strict=True) if STATEFUL[0] not in shard]
    assert max(plain) - min(plain) <= 1
    if sum(loads) / count <= STATEFUL_WEIGHT:  # the exploration alone is a fair share
        (holder,) = [shard for shard in shards if STATEFUL[0] in shard]
        assert set(holder) == set(STATEFUL) | PASSIVE


def test_the_shards_do_not_depend_on_the_process() -> None:
    """No hash order: two interpreters with different hash seeds deal the same shards."""
    code = (
        "from conformance.shard import partition; from conformance.runner import select; "
        "print(partition([c.id for c in select(None)], 4))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert outputs == {f"{partition(EVERY, 4)}\n"}


# --- the CLI -----------------------------------------------------------------------------


def _check(args: list[str], path: Path) -> int:
    argv = ["check", *args, "--seed", SEED, "--max-examples", "10", "-q"]
    return main([*argv, "--report-json", str(path)])


def _merge(paths: list[Path], out: Path, *more: str) -> int:
    return main(["report", "merge", *map(str, paths), "-o", str(out), *more])


def _verdicts(path: Path) -> dict[str, str]:
    return {c.id: c.verdict.value for c in read_report(path).clauses}


def _one_usage_line(capsys: pytest.CaptureFixture[str], fragment: str) -> None:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("session-conformance: ")
    assert fragment in err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["check", "--shard", "0/3"], "argument --shard: '0/3': K must be 1..3"),
        (["check", "--shard", "5/4"], "K must be 1..4"),
        (["check", "--shard", "two"], "is not K/N"),
        (["check", "--shard", "3/3", "--clause", "LIFE-001", "LIFE-002"], "--shard 3/3: that "),
    ],
)
def test_a_bad_shard_is_exit_2_with_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    _one_usage_line(capsys, fragment)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small selection in-process, unsharded and in 3 shards (LIFE-001 and ERR-001
    go to shards 1 and 2, the passive ID-001 and ERR-006 to all three)."""
    folder = tmp_path_factory.mktemp("small")
    paths = {"full": folder / "full.json"}
    assert _check(["--clause", *SMALL], paths["full"]) == 0
    for k in (1, 2, 3):
        paths[f"{k}"] = folder / f"shard-{k}.json"
        assert _check(["--clause", *SMALL, "--shard", f"{k}/3"], paths[f"{k}"]) == 0
    return paths


def test_a_shard_report_says_which_shard(small: dict[str, Path]) -> None:
    report = read_report(small["2"])
    settings = dict(report.settings)
    assert settings["shard"] == "2/3"
    assert settings["selection"] == ",".join(c.id for c in select(SMALL))
    assert report.notes[0].startswith(f"shard 2/3: {len(report.clauses)} of {len(SMALL)} clauses")
    assert {c.id for c in report.clauses} == set(partition(settings["selection"].split(","), 3)[1])


def test_merged_small_shards_give_the_unsharded_verdicts_and_render_everywhere(
    small: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merged = tmp_path / "all.json"
    assert _merge([small["3"], small["1"], small["2"]], merged) == 0
    assert _verdicts(merged) == _verdicts(small["full"])
    assert list(_verdicts(merged)) == list(_verdicts(small["full"]))  # clause order
    report = read_report(merged)
    err006 = next(c for c in report.clauses if c.id == "ERR-006")
    assert err006.summary.endswith("[judged in 3 of 3 shards: passed in 1/3, 2/3, 3/3]")
    assert "shard" not in dict(report.settings)
    assert dict(report.settings)["shards"] == "1/3, 2/3, 3/3"
    capsys.readouterr()
    for kind in FORMATS:
        assert main(["report", str(merged), "--format", kind, "-o", str(tmp_path / kind)]) == 0
        assert (tmp_path / kind).stat().st_size > 0


def test_a_missing_shard_is_error_never_passed(
    small: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    merged = tmp_path / "all.json"
    assert _merge([small["1"], small["3"]], merged) == 3  # as check: undecided, none failed
    err = capsys.readouterr().err
    verdicts = _verdicts(merged)
    lost = [c for c in partition([c.id for c in select(SMALL)], 3)[1] if c not in PASSIVE]
    assert lost
    assert all(verdicts[c] == "error" for c in lost)
    assert all(verdicts[c] == "error" for c in PASSIVE & set(SMALL))  # shard 2's traffic
    note = next(n for n in read_report(merged).notes if n.startswith("missing:"))
    assert "shard(s) 2/3 not given" in note
    assert all(c in note for c in lost)
    assert note in err


@pytest.mark.parametrize(("level", "strict", "code"), [("MUST", False, 1), ("SHOULD", False, 0),
                                                      ("SHOULD", True, 1)])  # fmt: skip
def test_the_merge_exits_as_check_would(
    level: str, strict: bool, code: int, small: dict[str, Path], tmp_path: Path
) -> None:
    """runner.exit_code on the merged verdicts: a failed MUST clause is 1, a failed
    SHOULD clause only with --strict."""
    data = json.loads(small["1"].read_text(encoding="utf-8"))
    (clause,) = [c for c in data["clauses"] if c["id"] == "LIFE-001"]
    finding = {"message": "made to fail", "expected": "a pass", "exchange": None, "steps": []}
    clause.update(verdict="failed", level=level, summary="made to fail", findings=[finding])
    data["totals"].update(passed=data["totals"]["passed"] - 1, failed=1)
    failing = _write(tmp_path / "failing.json", json.dumps(data))
    flags = ["--strict"] if strict else []
    assert _merge([failing, small["2"], small["3"]], tmp_path / "all.json", *flags) == code
    assert _verdicts(tmp_path / "all.json")["LIFE-001"] == "failed"


def _edited(source: Path, folder: Path, name: str, **changes: Any) -> Path:
    data = json.loads(source.read_text(encoding="utf-8"))
    settings = changes.pop("settings", {})
    data.update(changes)
    data["settings"].update(settings)
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("seed", "their seeds differ (424242 and 7)"),
        ("target", "their targets differ"),
        ("version", "their tool versions differ"),
        ("profile", "their profiles differ"),
        ("budget", "their setting max_examples differs ('10' and '500')"),
        ("count", "split it differently"),
        ("twice", "shard 1/3 is given twice"),
        ("overlap", "both hold"),
        ("unsharded", "is not a shard report"),
        ("absent", "no such file"),
        ("not-json", "is not JSON"),
        ("nothing", "give the shard reports to merge"),
        ("format", "report merge writes JSON"),
    ],
)
def test_a_bad_merge_is_exit_2_with_one_line(
    case: str,
    fragment: str,
    small: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    one, two = small["1"], small["2"]
    other = {
        "seed": lambda: _edited(two, tmp_path, "x.json", seed=7),
        "target": lambda: _edited(two, tmp_path, "x.json", target="http://elsewhere.test"),
        "version": lambda: _edited(two, tmp_path, "x.json", version="0.0.1"),
        "profile": lambda: _edited(two, tmp_path, "x.json", profile="adk"),
        "budget": lambda: _edited(two, tmp_path, "x.json", settings={"max_examples": "500"}),
        "count": lambda: _edited(two, tmp_path, "x.json", settings={"shard": "2/4"}),
        "twice": lambda: one,
        "overlap": lambda: _edited(one, tmp_path, "x.json", settings={"shard": "2/3"}),
        "unsharded": lambda: small["full"],
        "absent": lambda: tmp_path / "nowhere.json",
        "not-json": lambda: _write(tmp_path / "x.json", "{nope"),
    }
    if case == "nothing":
        code = main(["report", "merge"])
    elif case == "format":
        code = main(["report", "merge", str(one), str(two), "--format", "html"])
    else:
        code = _merge([one, other[case]()], tmp_path / "all.json")
    assert code == 2
    _one_usage_line(capsys, fragment)
    assert not (tmp_path / "all.json").exists()


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_report_still_renders_one_report_and_says_how_to_merge(
    small: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(small["1"]), str(small["2"]), "--format", "html"]) == 2
    _one_usage_line(capsys, "report merge SHARD.json")
    assert main(["report", str(small["1"])]) == 2
    _one_usage_line(capsys, "--format")


# --- whole runs: the reference and a mutant ----------------------------------------------


def _sharded_and_whole(folder: Path, target: list[str]) -> tuple[int, int, Path, Path]:
    """check --shard k/3 for k = 1..3 and merge; and the unsharded run: exit codes, files."""
    shards = [folder / f"shard-{k}.json" for k in (1, 2, 3)]
    for k, path in enumerate(shards, 1):
        _check([*target, "--shard", f"{k}/3"], path)
    merged, whole = folder / "all.json", folder / "whole.json"
    merge_code = _merge(shards, merged)
    return merge_code, _check(target, whole), merged, whole


@pytest.mark.slow  # four runs of every clause (about 25 s on 2 cores)
def test_sharded_reference_run_merges_into_the_unsharded_one(tmp_path: Path) -> None:
    merge_code, whole_code, merged, whole = _sharded_and_whole(tmp_path, [])
    assert (merge_code, whole_code) == (0, 0)
    verdicts = _verdicts(merged)
    assert verdicts == _verdicts(whole)
    assert set(verdicts) == set(EVERY)
    assert set(verdicts) >= PASSIVE


@pytest.fixture
def mutant() -> Iterator[str]:
    server = serve_in_thread(HtmlNotFound(_config()))
    yield server.url
    server.stop()


def _config() -> Any:
    from conformance.reference import ReferenceConfig

    return ReferenceConfig(provision_seconds=0.5, token=TOKEN, cors_origin=ORIGIN)


@pytest.mark.socket
@pytest.mark.slow  # four full runs of every clause against a mutant over a socket
def test_a_failure_survives_the_merge(mutant: str, tmp_path: Path) -> None:
    target = [mutant, "--token", TOKEN, "--cors-origin", ORIGIN]
    merge_code, whole_code, merged, whole = _sharded_and_whole(tmp_path, target)
    assert (merge_code, whole_code) == (1, 1)  # what check gives, the merge gives
    verdicts = _verdicts(merged)
    assert verdicts == _verdicts(whole)
    assert verdicts["ERR-001"] == verdicts["ERR-006"] == "failed"  # non-passive, passive
    err006 = next(c for c in read_report(merged).clauses if c.id == "ERR-006")
    assert err006.findings
    assert "judged in 3 of 3 shards: failed in" in err006.summary


# --- the CI example ----------------------------------------------------------------------


def test_the_nightly_example_is_a_valid_workflow() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(WORKFLOW)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_nightly_example_shards_a_deep_run_and_merges_it() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    assert shard["strategy"]["matrix"]["shard"] == [1, 2, 3, 4]
    assert merge["needs"] == "shard"
    env = {"BACKEND_PORT": "8000", "BACKEND_URL": "http://127.0.0.1:8000", "SEED": "5",
           "CORS_ORIGIN": "https://app.example", "SHARD": "3"}  # fmt: skip
    commands = {
        name: [_expand(c, env) for s in job["steps"] for c in _commands(s.get("run", ""))]
        for name, job in (("shard", shard), ("merge", merge))
    }
    parser = build_parser()
    for argv in [*commands["shard"], *commands["merge"]]:
        parser.parse_args(argv)
    (check,) = [c for c in commands["shard"] if c[0] == "check"]
    args = parser.parse_args(check)
    assert (args.shard, args.max_examples, args.seed) == (Shard(3, 4), 500, 5)
    assert args.report_json is not None
    merges = [c for c in commands["merge"] if c[:2] == ["report", "merge"]]
    assert len(merges) == 1
    formats = {c[c.index("--format") + 1] for c in commands["merge"] if "--format" in c}
    assert formats == set(FORMATS)
