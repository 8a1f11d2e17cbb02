"""The target's own schema: a layout's own limits, read from the OpenAPI document its
profile names (``openapi``), are checked like the contract's (TSCHEMA-*).

For each role with a body (create, run) whose request schema the document declares,
:mod:`conformance.target_schema` makes bodies from that schema: valid ones at each
boundary it declares (the longest text, the greatest number, each enum member ...) and
ones breaking one of its constraints each (one character over, a required field left
out ...), each judged by the document itself before it is sent. Valid bodies must be
accepted (TSCHEMA-001); broken ones must get the validation answer in the layout's
envelope, never a 2xx or a 5xx (TSCHEMA-002). Run bodies go to a Ready session. The ids
and constants the profile writes into a body are never changed (the contract's own
clauses judge those). Without an ``openapi`` key, or when the document declares no
request schema for the profile's routes, both are ``not_applicable``; a document that
cannot be fetched or read makes them ``error``.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks import check
from conformance.checks.errors import BODY_LIMIT
from conformance.context import CheckContext
from conformance.expectations import describe, expect_error
from conformance.records import Exchange, Finding
from conformance.schema_probes import CannotBuild, Probe
from conformance.target_schema import RoleSchema, document_of, probes_of, role_schemas, send_body

#: A body sent here stays this far under the contract's 1 MiB limit (room for the ids).
HEADROOM = 4096


@check("TSCHEMA-001")
def own_valid_bodies_are_accepted(ctx: CheckContext) -> Iterator[Finding]:
    for declared, probe, exchange in _sent(ctx, valid=True):
        if exchange.status is not None and 200 <= exchange.status < 300:
            continue
        yield Finding(
            f"a {declared.role} body valid under the target's own schema "
            f"({declared.path}), {probe.describe()}: got {describe(exchange)}",
            "a 2xx: the target's own OpenAPI document calls this body valid",
            exchange,
        )


@check("TSCHEMA-002")
def own_constraints_get_the_validation_answer(ctx: CheckContext) -> Iterator[Finding]:
    for declared, probe, exchange in _sent(ctx, valid=False):
        finding = expect_error(
            exchange,
            422,
            "VALIDATION_ERROR",
            f"a {declared.role} body breaking the target's own schema "
            f"({declared.path}): {probe.describe()}",
        )
        if finding is not None:
            yield finding


def _sent(ctx: CheckContext, *, valid: bool) -> Iterator[tuple[RoleSchema, Probe, Exchange]]:
    """Each probe of each role, sent, with its answer (a session a create made is
    tracked, so it is deleted after the clause)."""
    document = document_of(ctx)
    for declared in role_schemas(ctx, document):
        user = ctx.new_user()
        session = ctx.ready(user).session_id if declared.role == "run" else None
        try:
            probes = probes_of(
                ctx,
                document,
                declared,
                user_id=user,
                session_id=session,
                max_bytes=BODY_LIMIT - HEADROOM,
                valid=valid,
            )
        except CannotBuild as exc:
            ctx.untranslatable(f"{declared.role} ({declared.path}): {exc}")
            continue
        for probe in probes:
            exchange = send_body(ctx, declared.role, probe.body, user_id=user, session_id=session)
            ctx.judged += 1
            if declared.role == "create" and exchange.status in (200, 201):
                made = ctx.client.created_id(exchange)
                if made is not None:
                    ctx.track(user, made)
            yield declared, probe, exchange
