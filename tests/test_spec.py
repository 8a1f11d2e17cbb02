"""The OpenAPI document ``specs/session-contract.openapi.yaml`` is valid and says what
``CONTRACT.md`` and ``docs/decisions.md`` say.

Component schemas are checked with ``jsonschema`` (JSON Schema 2020-12, as OpenAPI 3.1
uses), the whole document registered as one resource so ``$ref`` between components
resolves.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import schemathesis
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPECS = Path(__file__).resolve().parent.parent / "specs"
SPEC_FILE = SPECS / "session-contract.openapi.yaml"
DOC_URI = "urn:session-contract"

USER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$(?!\n)"
SESSION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$(?!\n)"

OPERATIONS = {
    ("/users/{user_id}/sessions", "post"): "createSession",
    ("/users/{user_id}/sessions", "get"): "listSessions",
    ("/users/{user_id}/sessions/{session_id}", "get"): "getSession",
    ("/users/{user_id}/sessions/{session_id}", "delete"): "deleteSession",
    ("/users/{user_id}/sessions/{session_id}/status", "get"): "getSessionStatus",
    ("/run", "post"): "runSession",
    ("/run_sse", "post"): "runSessionStream",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

# Every status each operation can answer (CONTRACT.md, docs/decisions.md), with the
# error codes each error status may carry there.
STATUSES: dict[str, dict[str, set[str]]] = {
    "createSession": {
        "201": set(),
        "400": {"MALFORMED_JSON", "SESSION_ID_MISSING"},
        "401": {"UNAUTHORIZED"},
        "409": {"SESSION_EXISTS"},
        "413": {"PAYLOAD_TOO_LARGE"},
        "415": {"UNSUPPORTED_MEDIA_TYPE"},
        "422": {"VALIDATION_ERROR"},
        "500": {"INTERNAL_ERROR"},
    },
    "listSessions": {
        "200": set(),
        "401": {"UNAUTHORIZED"},
        "422": {"VALIDATION_ERROR"},
        "500": {"INTERNAL_ERROR"},
    },
    **{
        op: {
            "200": set(),
            "400": {"SESSION_ID_MISSING"},
            "401": {"UNAUTHORIZED"},
            "404": {"SESSION_NOT_FOUND"},
            "422": {"VALIDATION_ERROR"},
            "500": {"INTERNAL_ERROR"},
        }
        for op in ("getSession", "deleteSession", "getSessionStatus")
    },
    **{
        op: {
            "200": set(),
            "400": {"MALFORMED_JSON", "SESSION_ID_MISSING"},
            "401": {"UNAUTHORIZED"},
            "404": {"SESSION_NOT_FOUND"},
            "409": {"SESSION_NOT_READY"},
            "413": {"PAYLOAD_TOO_LARGE"},
            "415": {"UNSUPPORTED_MEDIA_TYPE"},
            "422": {"VALIDATION_ERROR"},
            "500": {"INTERNAL_ERROR"},
        }
        for op in ("runSession", "runSessionStream")
    },
}

ERROR_CODES = {
    "VALIDATION_ERROR": 422,
    "MALFORMED_JSON": 400,
    "SESSION_ID_MISSING": 400,
    "SESSION_NOT_FOUND": 404,
    "SESSION_NOT_READY": 409,
    "SESSION_EXISTS": 409,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "PAYLOAD_TOO_LARGE": 413,
    "UNAUTHORIZED": 401,
    "INTERNAL_ERROR": 500,
}
SENTINELS = ["undefined", "null", "none", "nil", "nan", "[object object]", ""]
ENVELOPES = {"#/components/schemas/ErrorEnvelope", "#/components/schemas/ValidationErrorEnvelope"}
REQUEST_SCHEMAS = ("CreateSession", "RunRequest")
RESPONSE_SCHEMAS = (
    "Session",
    "SessionEnvelope",
    "SessionList",
    "DeleteResult",
    "Status",
    "Event",
    "RunResult",
    "ErrorEnvelope",
    "ValidationErrorEnvelope",
)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    with SPEC_FILE.open(encoding="utf-8") as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def registry(doc: dict[str, Any]) -> Registry[Any]:
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    return Registry().with_resource(DOC_URI, resource)


def validator(registry: Registry[Any], component: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"{DOC_URI}#/components/schemas/{component}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref``s until a node without one."""
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def op_by_id(doc: dict[str, Any], operation_id: str) -> dict[str, Any]:
    (op,) = [op for _, _, op in operations(doc) if op.get("operationId") == operation_id]
    return op


# -- the document as a whole ------------------------------------------------------------


def test_document_is_valid_openapi_31(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_info(doc: dict[str, Any]) -> None:
    info = doc["info"]
    assert info["title"] == "Session Contract"
    assert info["version"] == "1.0.0"
    assert info["x-sentinel-session-ids"] == SENTINELS
    assert info["x-error-codes"] == ERROR_CODES


def test_info_description_documents_codes_precedence_sentinels_and_patterns(
    doc: dict[str, Any],
) -> None:
    text = doc["info"]["description"]
    for code, status in ERROR_CODES.items():
        assert re.search(rf"`{code}`[^\n]*{status}|{status}[^\n]*`?{code}", text), code
    assert "## Precedence" in text
    for sentinel in SENTINELS[:-1]:
        assert f"`{sentinel}`" in text
    assert "the empty string" in text
    assert USER_ID_PATTERN in text
    assert SESSION_ID_PATTERN in text


def test_schemathesis_loads_every_operation() -> None:
    schema = schemathesis.openapi.from_path(str(SPEC_FILE))
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[(operation.path, operation.method.lower())] = operation.definition.raw["operationId"]
    assert found == OPERATIONS


def test_component_schemas_are_valid_json_schema(doc: dict[str, Any]) -> None:
    for name, schema in doc["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:  # pragma: no cover - failure path
            pytest.fail(f"{name}: {exc.message}")
    for name in (*REQUEST_SCHEMAS, *RESPONSE_SCHEMAS, "Phase", "UserId", "ClientSessionId"):
        assert name in doc["components"]["schemas"], name


# -- paths and operations ---------------------------------------------------------------


def test_paths_methods_and_operation_ids(doc: dict[str, Any]) -> None:
    assert set(doc["paths"]) == {path for path, _ in OPERATIONS}
    found = {}
    for path, method, op in operations(doc):
        assert op.get("operationId"), f"{method.upper()} {path} has no operationId"
        found[(path, method)] = op["operationId"]
    assert found == OPERATIONS
    assert set(found.values()) == set(OPERATIONS.values())
    assert len(found) == 7


def test_path_items_name_their_allowed_methods(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        methods = {m.upper() for (p, m) in OPERATIONS if p == path}
        assert set(item["x-allow"]) == methods, path


def test_path_parameters(doc: dict[str, Any]) -> None:
    for path, item in doc["paths"].items():
        params = [resolve(doc, p) for p in item.get("parameters", [])]
        for _, _, op in operations({"paths": {path: item}}):
            params += [resolve(doc, p) for p in op.get("parameters", [])]
        names = {p["name"] for p in params}
        assert names == set(re.findall(r"\{(\w+)\}", path)), path
        for param in params:
            assert param["in"] == "path"
            assert param["required"] is True
            assert param.get("description")
            schema = resolve(doc, param["schema"])
            if param["name"] == "user_id":
                assert schema["type"] == "string"
                assert schema["pattern"] == USER_ID_PATTERN
            else:
                assert param["name"] == "session_id"
                assert schema == {"type": "string"}, "a path session id is opaque"


def test_every_operation_documents_its_statuses(doc: dict[str, Any]) -> None:
    for operation_id, expected in STATUSES.items():
        op = op_by_id(doc, operation_id)
        assert set(op["responses"]) == set(expected), operation_id
        for status, codes in expected.items():
            response = op["responses"][status]
            if status.startswith(("4", "5")):
                assert set(response) == {"$ref"}, f"{operation_id} {status} is not a $ref"
                assert response["$ref"].startswith("#/components/responses/")
                assert set(resolve(doc, response)["x-error-codes"]) == codes, (
                    f"{operation_id} {status}"
                )


def test_every_error_response_is_a_json_envelope(doc: dict[str, Any]) -> None:
    responses = [
        (f"{method.upper()} {path} {status}", response)
        for path, method, op in operations(doc)
        for status, response in op["responses"].items()
        if status.startswith(("4", "5"))
    ]
    responses += [
        (f"components/responses/{name}", response)
        for name, response in doc["components"]["responses"].items()
    ]
    for where, ref in responses:
        response = resolve(doc, ref)
        assert response.get("description"), where
        assert set(response["content"]) == {"application/json"}, where
        schema = response["content"]["application/json"]["schema"]
        assert schema.get("$ref") in ENVELOPES, where
        codes = response["x-error-codes"]
        assert codes, where
        for code in codes:
            assert code in ERROR_CODES, f"{where}: unknown code {code}"
            if where[-3:].isdigit():
                assert ERROR_CODES[code] == int(where[-3:]), f"{where}: {code}"
    envelope = doc["components"]["schemas"]["ValidationErrorEnvelope"]
    assert {"$ref": "#/components/schemas/ErrorEnvelope"} in envelope["allOf"]


def test_error_responses_for_unmatched_routes_and_methods(doc: dict[str, Any]) -> None:
    responses = doc["components"]["responses"]
    assert responses["NotFound"]["x-error-codes"] == ["NOT_FOUND"]
    assert responses["MethodNotAllowed"]["x-error-codes"] == ["METHOD_NOT_ALLOWED"]


def test_success_responses(doc: dict[str, Any]) -> None:
    expected = {
        "createSession": ("201", "SessionEnvelope"),
        "listSessions": ("200", "SessionList"),
        "getSession": ("200", "SessionEnvelope"),
        "deleteSession": ("200", "DeleteResult"),
        "getSessionStatus": ("200", "Status"),
        "runSession": ("200", "RunResult"),
    }
    for operation_id, (status, component) in expected.items():
        response = resolve(doc, op_by_id(doc, operation_id)["responses"][status])
        assert response["description"]
        assert response["content"] == {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}
        }, operation_id


def test_stream_response(doc: dict[str, Any]) -> None:
    response = op_by_id(doc, "runSessionStream")["responses"]["200"]
    assert set(response["content"]) == {"text/event-stream"}
    media = response["content"]["text/event-stream"]
    assert media["schema"]["type"] == "string"
    assert "data:" in response["description"]
    assert "blank line" in response["description"]
    assert media["x-frame-schema"] == {"$ref": "#/components/schemas/Event"}


def test_request_bodies(doc: dict[str, Any]) -> None:
    create = op_by_id(doc, "createSession")["requestBody"]
    assert create["required"] is False, "an empty create body is taken as {}"
    assert create["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/CreateSession"}}
    }
    for operation_id in ("runSession", "runSessionStream"):
        body = op_by_id(doc, operation_id)["requestBody"]
        assert body["required"] is True
        assert body["content"] == {
            "application/json": {"schema": {"$ref": "#/components/schemas/RunRequest"}}
        }
    for operation_id in ("listSessions", "getSession", "deleteSession", "getSessionStatus"):
        assert "requestBody" not in op_by_id(doc, operation_id)


def test_headers(doc: dict[str, Any]) -> None:
    created = op_by_id(doc, "createSession")["responses"]["201"]
    assert resolve(doc, created["headers"]["Location"])["required"] is True
    responses = doc["components"]["responses"]
    assert resolve(doc, responses["Unauthorized"]["headers"]["WWW-Authenticate"])["required"]
    assert resolve(doc, responses["MethodNotAllowed"]["headers"]["Allow"])["required"]


def test_security(doc: dict[str, Any]) -> None:
    assert doc["security"] == [{}, {"bearerAuth": []}]
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert "declares" in scheme["description"]


def test_operations_are_described(doc: dict[str, Any]) -> None:
    for path, method, op in operations(doc):
        assert op.get("summary"), f"{method} {path}"
        assert op.get("description"), f"{method} {path}"
        for status, response in op["responses"].items():
            assert resolve(doc, response).get("description"), f"{method} {path} {status}"


# -- request schemas reject unknown fields, response schemas allow them -----------------


def _objects(doc: dict[str, Any], schema: dict[str, Any], seen: set[int]) -> list[dict[str, Any]]:
    """Every object schema reachable from ``schema`` (through $ref, properties, items, allOf)."""
    schema = resolve(doc, schema)
    if id(schema) in seen:
        return []
    seen.add(id(schema))
    found = [schema] if schema.get("type") == "object" or "properties" in schema else []
    for sub in schema.get("properties", {}).values():
        found += _objects(doc, sub, seen)
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            found += _objects(doc, schema[key], seen)
    for sub in schema.get("allOf", []):
        found += _objects(doc, sub, seen)
    return found


def test_request_schemas_are_closed_at_every_level(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for name in REQUEST_SCHEMAS:
        for schema in _objects(doc, schemas[name], set()):
            if schema is schemas[name]["properties"].get("metadata"):
                assert "additionalProperties" not in schema, "metadata is free-form"
                continue
            assert schema.get("additionalProperties") is False, (name, schema)
        assert set(schemas["RunRequest"]["required"]) == {"user_id", "session_id", "new_message"}


def test_response_schemas_are_open(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for name in RESPONSE_SCHEMAS:
        for schema in _objects(doc, schemas[name], set()):
            assert schema.get("additionalProperties", True) is not False, (name, schema)


# -- patterns ---------------------------------------------------------------------------


def test_patterns(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["UserId"]["pattern"] == USER_ID_PATTERN
    assert schemas["ClientSessionId"]["pattern"] == SESSION_ID_PATTERN
    create, run = schemas["CreateSession"]["properties"], schemas["RunRequest"]["properties"]
    assert create["session_id"]["$ref"] == "#/components/schemas/ClientSessionId"
    assert run["session_id"]["$ref"] == "#/components/schemas/ClientSessionId"
    assert run["user_id"]["$ref"] == "#/components/schemas/UserId"


def test_plain_dollar_would_let_a_trailing_newline_through() -> None:
    """Why the patterns end in ``$(?!\\n)``: ``jsonschema`` uses ``re.search``."""
    plain = jsonschema.Draft202012Validator({"type": "string", "pattern": "^abc$"})
    assert plain.is_valid("abc\n")
    guarded = jsonschema.Draft202012Validator({"type": "string", "pattern": "^abc$(?!\n)"})
    assert not guarded.is_valid("abc\n")


USER_IDS = [
    ("alice", True),
    ("a", True),
    ("A.b_c-d@example.com", True),
    ("0" * 128, True),
    ("0" * 129, False),
    ("", False),
    ("alice\n", False),
    ("\nalice", False),
    (" alice", False),
    ("alice ", False),
    ("-alice", False),
    (".alice", False),
    ("al/ice", False),
    ("al ice", False),
    ("älice", False),
]

SESSION_IDS = [
    ("abc", True),
    ("s", True),
    ("A_b-9", True),
    ("0" * 128, True),
    ("0" * 129, False),
    ("abc\n", False),
    ("abc\r\n", False),
    ("\nabc", False),
    ("", False),
    (" abc", False),
    ("-abc", False),
    ("_abc", False),
    ("a.b", False),
    ("a@b", False),
    ("a/b", False),
    # sentinels: not valid ids (the server answers 400 SESSION_ID_MISSING)
    ("undefined", False),
    ("NULL", False),
    ("None", False),
    ("nil", False),
    ("NaN", False),
    ("[object Object]", False),
    # words that merely contain a sentinel are ordinary ids
    ("nullable", True),
    ("none1", True),
    ("nano", True),
]


@pytest.mark.parametrize(("value", "valid"), USER_IDS)
def test_user_id_pattern(registry: Registry[Any], value: str, valid: bool) -> None:
    assert validator(registry, "UserId").is_valid(value) is valid
    assert bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}", value)) is valid


@pytest.mark.parametrize(("value", "valid"), SESSION_IDS)
def test_client_session_id_pattern(registry: Registry[Any], value: str, valid: bool) -> None:
    assert validator(registry, "ClientSessionId").is_valid(value) is valid


@pytest.mark.parametrize(
    "value",
    [*SENTINELS, "  undefined ", "NULL", "None", "NiL", "NaN", "[object Object]", " ", "\t\n"],
)
def test_sentinel_schema_matches_sentinels(registry: Registry[Any], value: str) -> None:
    assert validator(registry, "SentinelSessionId").is_valid(value)


@pytest.mark.parametrize("value", ["abc", "nullable", "non", "object", "[object]", "nan1"])
def test_sentinel_schema_matches_nothing_else(registry: Registry[Any], value: str) -> None:
    assert not validator(registry, "SentinelSessionId").is_valid(value)


# -- example bodies ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({}, True),
        ({"metadata": {"a": 1}, "session_id": "abc", "ttl_seconds": 60}, True),
        ({"metadata": {"nested": {"x": [1, None]}}}, True),
        ({"ttl_seconds": 86400}, True),
        ({"session_id": "abc"}, True),
        ({"tool_metadata": {}}, False),
        ({"ttl_seconds": 59}, False),
        ({"ttl_seconds": 86401}, False),
        ({"ttl_seconds": 60.5}, False),
        ({"ttl_seconds": "60"}, False),
        ({"session_id": "abc\n"}, False),
        ({"session_id": ""}, False),
        ({"session_id": None}, False),
        ({"session_id": "undefined"}, False),
        ({"metadata": []}, False),
        ([], False),
        ("{}", False),
    ],
)
def test_create_session_examples(registry: Registry[Any], body: Any, valid: bool) -> None:
    assert validator(registry, "CreateSession").is_valid(body) is valid


RUN = {
    "user_id": "alice",
    "session_id": "s1",
    "new_message": {"role": "user", "parts": [{"text": "hi"}]},
}


def _run(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {**RUN, "new_message": {**RUN["new_message"]}}
    for key, value in changes.items():
        if key in ("role", "parts", "extra_message"):
            body["new_message"][key] = value
        else:
            body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        (RUN, True),
        (_run(parts=[{"text": ""}, {"text": "b"}]), True),
        (_run(extra=1), False),
        (_run(extra_message=1), False),
        (_run(parts=[{"text": "a", "x": 1}]), False),
        (_run(parts=[]), False),
        (_run(parts=[{}]), False),
        (_run(parts=[{"text": 1}]), False),
        (_run(role="model"), False),
        (_run(session_id="abc\n"), False),
        (_run(session_id=7), False),
        (_run(session_id="null"), False),
        (_run(user_id="alice\n"), False),
        ({k: v for k, v in RUN.items() if k != "session_id"}, False),
        ({k: v for k, v in RUN.items() if k != "user_id"}, False),
        ({k: v for k, v in RUN.items() if k != "new_message"}, False),
    ],
)
def test_run_request_examples(registry: Registry[Any], body: Any, valid: bool) -> None:
    assert validator(registry, "RunRequest").is_valid(body) is valid


SESSION = {
    "session_id": "s1",
    "user_id": "alice",
    "phase": "Starting",
    "ready": False,
    "created_at": "2025-01-01T00:00:00Z",
    "metadata": {},
    "turns": 0,
}
EVENT = {
    "id": "e1",
    "author": "reference-agent",
    "content": {"role": "model", "parts": [{"text": "echo: hi"}]},
    "timestamp": "2025-01-01T00:00:01Z",
}


def _status(phase: str, ready: bool, percent: int, eta: int | None, **extra: Any) -> dict[str, Any]:
    progress = {"percent": percent, "eta_ms": eta}
    return {
        "ok": True,
        "session_id": "s1",
        "ready": ready,
        "phase": phase,
        "progress": progress,
        **extra,
    }


FAILED = {"code": "PROVISIONING_FAILED", "message": "The container did not start."}


@pytest.mark.parametrize(
    ("component", "body", "valid"),
    [
        ("SessionEnvelope", {"ok": True, "session_id": "s1", "session": SESSION}, True),
        ("SessionEnvelope", {"ok": True, "session_id": "s1", "session": SESSION, "x": 1}, True),
        ("SessionEnvelope", {"ok": True, "session_id": None, "session": SESSION}, False),
        ("SessionEnvelope", {"ok": True, "session_id": "", "session": SESSION}, False),
        ("SessionEnvelope", {"ok": False, "session_id": "s1", "session": SESSION}, False),
        ("Session", {**SESSION, "phase": "Ready", "ready": True}, True),
        ("Session", {**SESSION, "phase": "Ready"}, False),
        ("Session", {**SESSION, "ready": True}, False),
        ("Session", {**SESSION, "phase": "Done"}, False),
        ("Session", {**SESSION, "turns": -1}, False),
        ("SessionList", {"ok": True, "sessions": []}, True),
        ("SessionList", {"ok": True, "sessions": [SESSION]}, True),
        ("SessionList", {"ok": True}, False),
        ("DeleteResult", {"ok": True, "session_id": "s1"}, True),
        ("DeleteResult", {"ok": True}, False),
        ("Status", _status("Starting", False, 0, None), True),
        ("Status", _status("Provisioning", False, 40, 300), True),
        ("Status", _status("Ready", True, 100, 0), True),
        ("Status", _status("Ready", True, 100, None), True),
        ("Status", _status("Failed", False, 30, None, error=FAILED), True),
        ("Status", _status("Failed", False, 30, None), False),
        ("Status", _status("Provisioning", False, 30, None, error=FAILED), False),
        ("Status", _status("Ready", True, 99, 0), False),
        ("Status", _status("Ready", False, 100, 0), False),
        ("Status", _status("Provisioning", True, 50, 10), False),
        ("Status", _status("Provisioning", False, 101, 10), False),
        ("Status", _status("Provisioning", False, 50, -1), False),
        ("Status", _status("Provisioning", False, 50.5, 10), False),
        ("RunResult", {"ok": True, "session_id": "s1", "events": [EVENT]}, True),
        ("RunResult", {"ok": True, "session_id": "s1", "events": []}, False),
        ("Event", {**EVENT, "extra": True}, True),
        ("Event", {k: v for k, v in EVENT.items() if k != "timestamp"}, False),
        (
            "ErrorEnvelope",
            {"ok": False, "error": "SESSION_NOT_FOUND", "message": "No such session."},
            True,
        ),
        ("ErrorEnvelope", {"ok": False, "error": "X", "message": "m", "details": {}}, True),
        ("ErrorEnvelope", {"ok": False, "error": "X", "message": "m", "details": []}, False),
        ("ErrorEnvelope", {"ok": True, "error": "X", "message": "m"}, False),
        ("ErrorEnvelope", {"detail": "Not Found"}, False),
        (
            "ValidationErrorEnvelope",
            {
                "ok": False,
                "error": "VALIDATION_ERROR",
                "message": "The body is invalid.",
                "details": {"errors": [{"path": "/ttl_seconds", "message": "too small"}]},
            },
            True,
        ),
        (
            "ValidationErrorEnvelope",
            {
                "ok": False,
                "error": "VALIDATION_ERROR",
                "message": "The body is invalid.",
                "details": {"errors": [{"path": "", "message": "not an object"}]},
            },
            True,
        ),
        (
            "ValidationErrorEnvelope",
            {"ok": False, "error": "VALIDATION_ERROR", "message": "m"},
            False,
        ),
        (
            "ValidationErrorEnvelope",
            {"ok": False, "error": "VALIDATION_ERROR", "message": "m", "details": {"errors": []}},
            False,
        ),
        (
            "ValidationErrorEnvelope",
            {
                "ok": False,
                "error": "VALIDATION_ERROR",
                "message": "m",
                "details": {"errors": [{"path": "ttl_seconds", "message": "not a pointer"}]},
            },
            False,
        ),
        (
            "ValidationErrorEnvelope",
            {
                "ok": False,
                "error": "MALFORMED_JSON",
                "message": "m",
                "details": {"errors": [{"path": "/a", "message": "m"}]},
            },
            False,
        ),
    ],
)
def test_response_examples(registry: Registry[Any], component: str, body: Any, valid: bool) -> None:
    errors = list(validator(registry, component).iter_errors(body))
    assert (not errors) is valid, [e.message for e in errors]


def test_schema_examples_are_valid(doc: dict[str, Any], registry: Registry[Any]) -> None:
    for name, schema in doc["components"]["schemas"].items():
        for example in schema.get("examples", []):
            assert validator(registry, name).is_valid(example), (name, example)
