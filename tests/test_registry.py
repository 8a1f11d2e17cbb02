"""The registry, the checks and docs/clauses.md agree (STYLE habit 2)."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from conformance.checks import all_checks
from conformance.client_checks import all_client_checks
from conformance.contract import ContractFileError, load_document, specs_dir
from conformance.registry import load_registry, registry
from conformance.reporting.clause_doc import clauses_markdown

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_FAMILIES = {
    "lifecycle", "identity", "errors", "validation", "sentinels", "polling",
    "isolation", "auth", "cors", "streaming",
}  # fmt: skip


def test_registry_matches_its_schema() -> None:
    data = load_document(specs_dir() / "clauses.yaml")
    schema = load_document(specs_dir() / "clauses.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)


def test_every_clause_has_a_check_and_every_check_a_clause() -> None:
    # Server clauses are checked against a target (conformance/checks/), client clauses
    # against a recorded trace (conformance/client_checks/): each kind in its own registry.
    for subject, checks in (("server", set(all_checks())), ("client", set(all_client_checks()))):
        ids = {clause.id for clause in registry().of_subject(subject)}
        assert ids - checks == set(), f"{subject} clauses without a check"
        assert checks - ids == set(), f"{subject} checks naming an unknown {subject} clause"


def test_client_clauses_are_in_the_client_family_and_only_there() -> None:
    for clause in registry().clauses:
        assert (clause.subject == "client") == (clause.family == "client"), clause.id


def test_registry_covers_every_family_of_the_contract() -> None:
    families = {clause.family for clause in registry().clauses}
    assert families >= CONTRACT_FAMILIES
    assert len(registry().clauses) >= 40


def test_docs_clauses_md_is_generated_from_the_registry() -> None:
    committed = (ROOT / "docs" / "clauses.md").read_text(encoding="utf-8")
    assert committed == clauses_markdown(registry()), (
        "docs/clauses.md is stale: session-conformance clauses --markdown > docs/clauses.md"
    )


def test_every_clause_id_appears_in_the_docs() -> None:
    text = (ROOT / "docs" / "clauses.md").read_text(encoding="utf-8")
    for clause_id in registry().ids():
        assert f"`{clause_id}`" in text


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda d: d["clauses"][0].update(level="MUSTN'T"), "clauses/0/level"),
        (lambda d: d["clauses"][1].update(id=d["clauses"][0]["id"]), "appears twice"),
        (lambda d: d["clauses"][0].update(family="nowhere"), "unknown family"),
        (lambda d: d["clauses"][0].pop("statement"), "clauses/0"),
    ],
)
def test_a_broken_registry_is_refused_with_the_place(
    tmp_path: Path, mutation: object, message: str
) -> None:
    data = yaml.safe_load((specs_dir() / "clauses.yaml").read_text(encoding="utf-8"))
    mutation(data)  # type: ignore[operator]
    path = tmp_path / "clauses.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ContractFileError, match=message):
        load_registry(path)


def test_the_readmes_state_the_number_of_server_clauses() -> None:
    count = len(registry().of_subject("server"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"registry of {count} server clauses" in readme
    for path in (ROOT / "README.md", ROOT / "examples" / "README.md"):
        badges = re.findall(r"session contract \| (\d+)/(\d+) passed", path.read_text("utf-8"))
        assert badges, f"{path.name} shows no badge example"
        assert {int(n) for pair in badges for n in pair} == {count}, path
