"""The contract as files: locating and loading ``specs/``.

The OpenAPI document, the clause registry and the report schema live in ``specs/`` at
the repository root; a wheel carries them as ``conformance/specs``. Everything is parsed
once per process.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, cast

import yaml

OPENAPI_FILE = "session-contract.openapi.yaml"
CLAUSES_FILE = "clauses.yaml"
CLAUSES_SCHEMA_FILE = "clauses.schema.json"
REPORT_SCHEMA_FILE = "report.schema.json"


class ContractFileError(Exception):
    """A file of the contract is missing or malformed."""


def specs_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "specs", here.parent / "specs"):
        if (candidate / CLAUSES_FILE).is_file():
            return candidate
    raise ContractFileError(
        f"cannot find {CLAUSES_FILE} in {here / 'specs'} or {here.parent / 'specs'}"
    )


def load_document(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON file into a mapping, or raise :class:`ContractFileError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        # libyaml's safe loader when built in: the same documents, ~10x faster to start
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=loader)
    except (ValueError, yaml.YAMLError) as exc:
        raise ContractFileError(
            f"{path} is not valid {path.suffix.lstrip('.').upper()}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise ContractFileError(f"{path} must hold a mapping at the top level")
    return cast(dict[str, Any], data)


@functools.cache
def openapi() -> dict[str, Any]:
    return load_document(specs_dir() / OPENAPI_FILE)


@functools.cache
def report_schema() -> dict[str, Any]:
    return load_document(specs_dir() / REPORT_SCHEMA_FILE)
