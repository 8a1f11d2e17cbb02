"""Schema: responses to requests generated from the OpenAPI document match it (SCHEMA-*).

schemathesis generates valid requests for every operation of the document (positive
mode); the check makes them exact before sending them through the target (so every one
is recorded): a generated user id becomes a fresh one, a generated session id that is a
sentinel becomes a never-created one, and some requests are pointed at a real Ready
session so success answers are checked too. Each response must have a status the
operation documents, a content type documented for that status, the headers documented
as required, and a JSON body matching the documented schema.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote

import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation

from conformance.checks import check
from conformance.client import encode
from conformance.context import CheckContext, Created, NotApplicable
from conformance.contract import openapi
from conformance.expectations import describe
from conformance.generation import is_missing_id
from conformance.profile import CANONICAL
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue
from conformance.schemas import schema_errors

Operation = APIOperation[Any, Any, Any, Any]
Generated = Case[Operation]
_COMPONENT = "#/components/schemas/"


@check("SCHEMA-001")
def responses_match_the_document(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.client.profile.routes != CANONICAL.routes:
        raise NotApplicable(
            f"the OpenAPI document describes the canonical layout, not profile "
            f"{ctx.client.profile.name!r}"
        )
    owner = ctx.ready()
    per_operation = max(3, ctx.settings.max_examples // 3)
    for operation in _operations():
        cases = st.tuples(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE), st.booleans()
        )
        found = list(for_all(ctx, cases, _probe(ctx, owner), max_examples=per_operation))
        yield from found


def _probe(ctx: CheckContext, owner: Created) -> Callable[[tuple[Generated, bool]], Finding | None]:
    def probe(drawn: tuple[Generated, bool]) -> Finding | None:
        case, real = drawn
        exchange = _send(ctx, case, owner if real else None)
        return _conformance(case.operation, exchange)

    return probe


@functools.cache
def _operations() -> tuple[Operation, ...]:
    schema = schemathesis.openapi.from_dict(openapi())
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            raise ValueError(
                f"the OpenAPI document has an operation schemathesis cannot load: {result.err()}"
            )
        operations.append(result.ok())
    return tuple(operations)


def _send(ctx: CheckContext, case: Generated, owner: Created | None) -> Exchange:
    """Send a generated case, its ids made exact: fresh users, no sentinels, and with
    ``owner`` the real session (a fresh one for delete, which would end it)."""
    operation = case.operation
    params = {k: unquote(str(v)) for k, v in (case.path_parameters or {}).items()}
    user = owner.user_id if owner is not None else ctx.new_user()
    if "user_id" in params:
        params["user_id"] = user
    if "session_id" in params:
        if owner is not None:
            params["session_id"] = _real_session(ctx, owner, operation.method)
        elif is_missing_id(params["session_id"]) or not params["session_id"].strip():
            params["session_id"] = ctx.new_session_id()
    path = operation.path
    for name, value in params.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    creates = operation.method.upper() == "POST" and operation.path.endswith("/sessions")
    body = _exact_body(ctx, creates, case.body, user, owner)
    headers = {k: v for k, v in dict(case.headers or {}).items() if k.lower() != "authorization"}
    content = None
    if body is not None:
        content = encode(body)
        headers["Content-Type"] = "application/json"
    exchange = ctx.client.send(
        operation.method.upper(),
        path,
        params=dict(case.query or {}),
        headers=headers,
        content=content,
    )
    if creates and exchange.status == 201:
        session_id = ctx.client.created_id(exchange)
        if session_id is not None:
            ctx.track(user, session_id)
    return exchange


def _real_session(ctx: CheckContext, owner: Created, method: str) -> str:
    if method.upper() == "DELETE":
        return ctx.create(owner.user_id).session_id
    return owner.session_id


def _exact_body(
    ctx: CheckContext, creates: bool, body: object, user: str, owner: Created | None
) -> JSONValue | None:
    if not isinstance(body, dict):
        return {} if creates else None  # never an empty create body (its answer is free)
    fixed: dict[str, JSONValue] = dict(body)
    if creates and "session_id" in fixed:
        if "client_ids" not in ctx.settings.features:
            del fixed["session_id"]
        else:
            fixed["session_id"] = ctx.new_session_id()  # unique, never a sentinel
    elif "session_id" in fixed:  # a run body
        fixed["user_id"] = user
        if owner is not None:
            fixed["session_id"] = owner.session_id
        elif is_missing_id(fixed["session_id"]):
            fixed["session_id"] = ctx.new_session_id()
    return fixed


# -- the oracle ---------------------------------------------------------------------------


def _conformance(operation: Operation, exchange: Exchange) -> Finding | None:
    """What in the response the operation does not document (None: all documented)."""
    response = exchange.response
    if response is None:
        return Finding(f"no response ({exchange.transport_error})", "a response", exchange)
    label = f"{operation.method.upper()} {operation.path}"
    documented = operation.definition.raw.get("responses", {})
    key = _status_key(response.status, documented)
    if key is None:
        return Finding(
            f"{label} answered status {response.status}, which it does not document: "
            f"{describe(exchange)}",
            f"one of {', '.join(sorted(documented))}",
            exchange,
        )
    spec = _resolve(documented[key])
    content: Mapping[str, Any] = spec.get("content", {})
    if content and response.media_type not in content:
        return Finding(
            f"{label} answered {response.status} with Content-Type "
            f"{response.header('content-type')!r}",
            f"Content-Type {' or '.join(content)} for {response.status}",
            exchange,
        )
    for name, header in spec.get("headers", {}).items():
        if _resolve(header).get("required") and response.header(name) is None:
            return Finding(
                f"{label} answered {response.status} without the {name} header",
                f"a {name} header",
                exchange,
            )
    if response.media_type != "application/json":
        return None
    try:
        body: JSONValue = response.json()
    except (ValueError, UnicodeDecodeError):
        return Finding(f"{label}: the body is not JSON: {describe(exchange)}", "JSON", exchange)
    errors = _body_errors(content["application/json"].get("schema", {}), body)
    if errors:
        return Finding(
            f"{label} answered {response.status} with a body that breaks the documented "
            f"schema: {'; '.join(errors[:3])}",
            f"a body matching the schema documented for {response.status}",
            exchange,
        )
    return None


def _status_key(status: int, documented: Mapping[str, Any]) -> str | None:
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in documented:
            return key
    return None


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A response or header object with its local ``$ref`` followed."""
    document = openapi()
    while "$ref" in node:
        target: Any = document
        for token in str(node["$ref"]).lstrip("#/").split("/"):
            target = target[token]
        node = target
    return node


def _body_errors(schema: Mapping[str, Any], body: JSONValue) -> list[str]:
    ref = str(schema.get("$ref", ""))
    if not ref.startswith(_COMPONENT):
        return []  # every JSON response of the document names a component
    return schema_errors(ref.removeprefix(_COMPONENT), body)
