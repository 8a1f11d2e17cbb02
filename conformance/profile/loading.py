"""Profile files: the built-in profiles, and loading a user's own (TOML or YAML).

``load_profile("adk")`` loads a built-in (a ``.toml`` file in ``conformance/profiles/``);
``load_profile("my-backend.toml")`` loads a file. Either is validated against
``specs/profile.schema.json`` and then for what a schema cannot say (every ``{...}`` of a
path is filled, a ``path`` place has its placeholder, every shape named exists:
:mod:`~conformance.profile.building`). Any
fault is one :class:`ProfileError` whose message names the file, the key
(``roles.run.session_id``) and what is wrong. The format is documented in
``docs/profiles.md``.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError

from conformance.contract import ContractFileError, load_document, specs_dir
from conformance.profile.building import Builder, ProfileError
from conformance.profile.model import Profile

#: The built-in profiles: one ``.toml`` file each, package data of ``conformance``.
BUILTINS = Path(__file__).resolve().parent.parent / "profiles"
SCHEMA_FILE = "profile.schema.json"

__all__ = ["BUILTINS", "ProfileError", "builtin_names", "load_profile", "parse_profile"]


def builtin_names() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in BUILTINS.glob("*.toml")))


def load_profile(spec: str, variables: Mapping[str, str] | None = None) -> Profile:
    """A built-in profile by name, or a profile file by path; ``variables`` override the
    profile's own (``--profile-var NAME=VALUE``)."""
    path = Path(spec)
    builtin = BUILTINS / f"{spec}.toml"
    if spec in builtin_names():
        path, origin = builtin, f"built-in profile {spec!r}"
    elif path.is_file():
        origin = str(path)
    else:
        raise ProfileError(
            f"no profile {spec!r}: not a built-in ({', '.join(builtin_names())}) and no such file"
        )
    return parse_profile(
        _read(path, origin),
        origin=origin,
        name=path.stem,
        variables=variables,
        folder=path.resolve().parent,
    )


def _read(path: Path, origin: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{origin}: cannot read it: {exc}") from exc
    try:
        data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        kind = "YAML" if path.suffix in (".yaml", ".yml") else "TOML"
        reason = " ".join(str(exc).split())
        raise ProfileError(f"{origin}: not valid {kind}: {reason}") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{origin}: the top level must be a table of keys")
    return data


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    try:
        schema = load_document(specs_dir() / SCHEMA_FILE)
    except ContractFileError as exc:
        raise ProfileError(str(exc)) from exc
    return jsonschema.Draft202012Validator(schema)


def parse_profile(
    data: dict[str, Any],
    *,
    origin: str,
    name: str,
    variables: Mapping[str, str] | None = None,
    folder: Path | None = None,
) -> Profile:
    """Validate ``data`` (a parsed profile file) and build the :class:`Profile`; a file
    its ``openapi`` names is relative to ``folder`` (the profile file's)."""
    errors = list(_validator().iter_errors(data))
    if errors:
        raise ProfileError(f"{origin}: {_explain(max(errors, key=_relevance))}")
    return Builder(data, origin, variables or {}, folder).build(name)


# -- schema errors, said in the file's own keys ----------------------------------------------


def _relevance(error: ValidationError) -> tuple[int, bool]:
    """The deepest error first; of those, one the schema explains itself (``x-error``)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    return (len(error.absolute_path), "x-error" in schema)


def _where(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "the top level"


def _explain(error: ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = _where(error)
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = sorted(schema.get("properties", {}))
        extra = sorted(set(instance) - set(known))
        listed = f" (known keys: {', '.join(known)})" if known else ""
        return f"{where}: unknown key {', '.join(repr(k) for k in extra)}{listed}"
    if error.validator == "required" and isinstance(instance, dict):
        wanted = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [k for k in wanted if k not in instance]
        return f"{where}: missing key {', '.join(repr(k) for k in missing)}"
    if "propertyNames" in error.absolute_schema_path:
        bad = error.instance
        why = schema.get("x-error") or error.message
        return f"{where}: key {bad!r} {why}"
    if error.validator in ("anyOf", "oneOf") and error.context:
        best = max(error.context, key=_relevance)
        deeper = len(best.absolute_path) > len(error.absolute_path)
        if deeper and "x-error" in (best.schema if isinstance(best.schema, dict) else {}):
            return _explain(best)  # one branch fits but for a key it explains itself
    if "x-error" in schema:
        return f"{where}: {instance!r} {schema['x-error']}"
    if error.validator in ("anyOf", "oneOf") and error.context:
        return _explain(max(error.context, key=_relevance))
    if error.validator == "type":
        return f"{where}: {instance!r} is not of type {error.validator_value}"
    return f"{where}: {error.message}"
