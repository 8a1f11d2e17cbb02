"""Validation of bodies against the OpenAPI document's component schemas.

OpenAPI 3.1 schemas are JSON Schema 2020-12, so each component is validated by
``jsonschema`` with the whole document registered as one resource (``$ref`` between
components resolves). Validators are built once per component. ``date-time`` is
checked as RFC 3339 by the harness itself, so the check never silently depends on an
optional format package.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.contract import openapi
from conformance.records import JSONValue

_DOC_URI = "urn:session-contract"
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    datetime.datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    return True


@functools.cache
def _validator(component: str) -> jsonschema.Draft202012Validator:
    document = openapi()
    if component not in document.get("components", {}).get("schemas", {}):
        raise KeyError(f"the OpenAPI document has no component schema {component!r}")
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_DOC_URI, resource)
    schema = {"$ref": f"{_DOC_URI}#/components/schemas/{component}"}
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=FORMATS)


def schema_errors(component: str, instance: JSONValue) -> list[str]:
    """Every way ``instance`` breaks the component schema, as readable lines."""
    errors = sorted(_validator(component).iter_errors(instance), key=lambda e: list(e.path))
    return [f"{_pointer(list(error.absolute_path))}: {error.message}" for error in errors]


def _pointer(parts: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts) or "(root)"
