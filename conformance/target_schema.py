"""The target's own schema: a profile's ``openapi`` document, read for the roles that
take a body, and bodies from it sent in the profile's layout.

A profile may name the target's own OpenAPI document (``openapi = "/openapi.json"``).
:func:`document_of` reads it (bounded, see :mod:`conformance.vendor_document`);
:func:`role_bodies` finds, for each role with a body (``create``, ``run``), the
document's operation on the profile's route and its JSON request schema
(:mod:`conformance.vendor_spec` matches them as ``compare-openapi`` does);
:func:`probes_of` makes its probes (:mod:`conformance.schema_probes`): the ids and
constants the profile writes into the body are written into every probe and never
changed. :func:`send_body` sends one
such body as the target's own: its ids where the profile puts them (path, query, header,
body), with no translation of the body itself.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.client import JSON_TYPE
from conformance.context import CheckContext, NotApplicable, Undecided
from conformance.pointers import MISSING, get, put, tokens
from conformance.profile import Profile, view_of
from conformance.records import Exchange, JSONValue, View
from conformance.schema_probes import Parts, Probe, SchemaProbes
from conformance.vendor_document import DocumentError, DocumentSource, read_document
from conformance.vendor_spec import find_operation, request_schema

#: The roles whose requests carry a body of the target's own.
BODY_ROLES = ("create", "run")


@dataclass(frozen=True, slots=True)
class RoleSchema:
    """The request body schema the document declares for one role, at ``path``."""

    role: str
    path: str
    schema: Any


def document_of(ctx: CheckContext) -> dict[str, Any]:
    """The profile's ``openapi`` document: :class:`NotApplicable` when the profile names
    none, :class:`Undecided` when it cannot be fetched or read."""
    profile = ctx.client.profile
    if not profile.openapi:
        raise NotApplicable(
            f"profile {profile.name!r} names no OpenAPI document of the target's own "
            "(openapi = ...): its own limits are not known"
        )
    target = ctx.client.target
    source = DocumentSource.parse(profile.openapi)
    try:
        return read_document(
            source,
            timeout=target.limits.request_deadline,
            max_bytes=target.limits.max_response_bytes,
            target=target,
        )
    except DocumentError as exc:
        raise Undecided(f"the target's own OpenAPI document: {exc}") from exc


def role_schemas(ctx: CheckContext, document: Mapping[str, Any]) -> list[RoleSchema]:
    """The request body schema of each role with a body that the document declares one
    for; :class:`NotApplicable` when it declares none, with why for each role."""
    profile = ctx.client.profile
    found: list[RoleSchema] = []
    missing: list[str] = []
    for role in BODY_ROLES:
        if not profile.has(role):
            continue
        route = profile.route(role)
        operation = find_operation(document.get("paths", {}), route)
        schema = None if operation is None else request_schema(document, operation[1])
        if operation is None or schema is None:
            what = "no JSON request body for" if operation else "no operation"
            missing.append(f"{role}: {what} {route.method} {route.template}")
            continue
        found.append(RoleSchema(role, operation[0], schema))
    if not found:
        raise NotApplicable(
            "the target's own OpenAPI document declares no request body schema for the "
            f"profile's routes ({'; '.join(missing) or 'no create or run route'})"
        )
    return found


def probes_of(
    ctx: CheckContext,
    document: Mapping[str, Any],
    declared: RoleSchema,
    *,
    user_id: str,
    session_id: str | None,
    max_bytes: int,
    valid: bool,
) -> tuple[Probe, ...]:
    """The ``valid`` (or broken) probes of one role's schema, its ids written where the
    profile puts them in the body; :class:`NotApplicable`-worthy trouble is
    :class:`CannotBuild`."""
    profile, role = ctx.client.profile, declared.role
    overlay: list[tuple[Parts, JSONValue]] = []
    for value, given in (("user_id", user_id), ("session_id", session_id)):
        parts = _body_place(profile, role, value)
        if parts is not None and given is not None:
            overlay.append((parts, given))
    overlay += [(tokens(p), json.loads(c)) for p, c in profile.route(role).constants]
    maker = SchemaProbes(
        document,
        declared.schema,
        rng=random.Random(ctx.rng.getrandbits(64)),
        max_bytes=max_bytes,
        fixed=_fixed(profile, role),
        overlay=tuple(overlay),
    )
    return _sampled(ctx, tuple(p for p in maker.probes() if p.valid == valid))


def _sampled(ctx: CheckContext, probes: tuple[Probe, ...]) -> tuple[Probe, ...]:
    """At most four times ``--max-examples`` probes, a seeded sample in their order."""
    cap = 4 * ctx.settings.max_examples
    if len(probes) <= cap:
        return probes
    keep = sorted(random.Random(ctx.seed).sample(range(len(probes)), cap))
    return tuple(probes[i] for i in keep)


def _body_place(profile: Profile, role: str, value: str) -> Parts | None:
    place = profile.route(role).place(role, value)
    return tokens(place.name) if place.where == "body" else None


def _fixed(profile: Profile, role: str) -> tuple[Parts, ...]:
    """The body fields the profile writes for ``role``: its ids and constants."""
    ids = (_body_place(profile, role, value) for value in ("user_id", "session_id"))
    constants = (tokens(pointer) for pointer, _ in profile.route(role).constants)
    return (*(p for p in ids if p is not None), *constants)


def send_body(
    ctx: CheckContext, role: str, body: JSONValue, *, user_id: str, session_id: str | None
) -> Exchange:
    """Send ``body`` for ``role`` as the target's own: the ids where the profile puts
    them outside the body (a create body's client-chosen id, when it has one, fresh)."""
    profile = ctx.client.profile
    route = profile.route(role)
    chosen = _body_place(profile, role, "session_id") if role == "create" else None
    if chosen is not None and get(body, chosen) is not MISSING:
        body = put(copy.deepcopy(body), chosen, ctx.new_session_id())
    params: dict[str, str] = {}
    headers = {"Content-Type": JSON_TYPE}
    in_path: dict[str, str] = {}
    for value, given in (("user_id", user_id), ("session_id", session_id)):
        place = route.place(role, value)
        if given is None or place.where in ("body", "none"):
            continue
        if place.where == "path":
            in_path[value] = given
        elif place.where == "query":
            params[place.name] = given
        else:
            headers[place.name] = given

    def viewer(exchange: Exchange) -> View | None:
        return view_of(profile, role, exchange, None)

    return ctx.client.target.send(
        route.method,
        route.path(**in_path),
        params=params or None,
        headers=headers,
        content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        viewer=None if profile.canonical else viewer,
        role=role,
    )
