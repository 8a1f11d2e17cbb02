"""Validation: invalid input gets a 422 envelope pointing at the field; valid input is
accepted (VAL-*).

Bodies come from :mod:`conformance.generation`: valid ones from the component schemas,
invalid ones as one named mutation of a valid body, each carrying the JSON pointer of the
field it broke. Invalid run bodies need no session: schema validation (422) comes before
existence (404). No invalid body carries a null, empty or sentinel ``session_id`` (that
is a 400, the sentinels family's business).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from hypothesis import strategies as st

from conformance.checks import check
from conformance.client import encode
from conformance.context import CheckContext, Created, NotApplicable, Undecided
from conformance.expectations import (
    VALIDATION_ENVELOPE,
    describe,
    envelope_problems,
    expect_status,
    expect_validation_error,
    field,
    validation_envelope_problems,
)
from conformance.generation import (
    HARNESS_USERS,
    boundaries,
    boundary_bodies,
    component,
    harness_user_ids,
    is_missing_id,
    optional_subsets,
    valid_bodies,
    values,
)
from conformance.mutations import (
    Mutation,
    Site,
    edge_mutations,
    invalid_bodies,
    mutation_sites,
    pattern_breakers,
)
from conformance.pointers import get
from conformance.profile import NotInLayout
from conformance.properties import for_all
from conformance.records import Exchange, Finding, JSONValue

CREATE, RUN = "CreateSession", "RunRequest"
#: Findings kept per clause before a check stops probing more sites.
ENOUGH = 3
#: What VAL-008 appends or prepends to a valid id.
PADDINGS = ("\n", " ", "\r\n", "\t", "\n\n")
#: The texts of the edge messages VAL-007 sends first: an empty text, many parts, and
#: a long text (well inside the 1 MiB a body may have).
EDGE_PARTS: tuple[tuple[str, ...], ...] = (("",), ("edge",) * 16, ("x" * 200_000,))


@check("VAL-001")
def unknown_create_field_is_422(ctx: CheckContext) -> Iterator[Finding]:
    user = _live_user(ctx)
    first = _create_raw(ctx, user, {"tool_metadata": {"tool": "search"}})
    finding = expect_validation_error(
        first, "tool_metadata", "create with the unknown field tool_metadata", holder=""
    )
    if finding is not None:
        yield finding
        return
    site = Site("unknown_field", "")
    yield from for_all(
        ctx, invalid_bodies(CREATE, site, omit=_omitted(ctx)), _create_probe(ctx, user)
    )


@check("VAL-002")
def invalid_create_body_is_422(ctx: CheckContext) -> Iterator[Finding]:
    user = _live_user(ctx)
    omit = _omitted(ctx)
    sites = [s for s in mutation_sites(CREATE, omit=omit) if s.kind != "unknown_field"]
    probe = _create_probe(ctx, user)
    for mutation in edge_mutations(CREATE, omit=omit):  # just past each edge first
        try:
            finding = probe(mutation)
        except NotInLayout as exc:  # a field the layout does not have
            ctx.untranslatable(str(exc))
            continue
        if finding is not None:
            yield finding
            return
    yield from _per_site(ctx, CREATE, sites, probe, omit=omit)


@check("VAL-003")
def invalid_run_body_is_422(ctx: CheckContext) -> Iterator[Finding]:
    yield from _per_site(ctx, RUN, mutation_sites(RUN), _run_probe(ctx))


@check("VAL-004")
def run_session_id_missing_or_mistyped_is_422(ctx: CheckContext) -> Iterator[Finding]:
    sites = [Site("missing", "/session_id"), Site("wrong_type", "/session_id")]
    yield from _per_site(
        ctx, RUN, sites, _run_probe(ctx), per_site=max(3, ctx.settings.max_examples // 2)
    )


@check("VAL-005")
def invalid_user_id_is_422(ctx: CheckContext) -> Iterator[Finding]:
    bad_ids = pattern_breakers(component("UserId")).filter(_path_safe)

    def probe(case: tuple[str, str]) -> Finding | None:
        role, user = case
        if role == "run":
            body = _run_body(ctx, user_id=user)
            exchange = ctx.client.call("run", raw=encode(body))
        else:
            exchange = ctx.client.call(role, user_id=user, body={} if role == "create" else None)
            _track(ctx, user, exchange)
        return expect_validation_error(
            exchange, "user_id", f"{role} with the user id {user!r}, which breaks its pattern"
        )

    # A layout that carries the user id in a header, the query or a body can also leave
    # it out: that is a user id breaking its pattern too, never an "anonymous" user.
    for role in ("create", "list"):
        try:
            exchange = ctx.client.call(
                role, body={} if role == "create" else None, omit=frozenset({"user_id"})
            )
        except NotInLayout:
            continue  # the user id travels in the path: it cannot be left out
        _track_any(ctx, exchange)
        finding = expect_validation_error(exchange, "user_id", f"{role} with no user id at all")
        if finding is not None:
            yield finding
            return
    cases = st.tuples(st.sampled_from(["create", "list", "run"]), bad_ids)
    yield from for_all(ctx, cases, probe)


@check("VAL-006")
def every_valid_create_body_is_201(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    subsets = optional_subsets(CREATE, omit=_omitted(ctx))
    per_subset = max(2, ctx.settings.max_examples // len(subsets))

    def probe(body: dict[str, JSONValue]) -> Finding | None:
        if "session_id" in body:
            body = {**body, "session_id": _unique(ctx, str(body["session_id"]))}
        exchange = ctx.client.create(user, body)
        _track(ctx, user, exchange)
        fields = ", ".join(sorted(body)) or "no fields"
        return expect_status(exchange, 201, f"create with a valid body ({fields}): {body!r}")

    # The edges first (a ttl of exactly the maximum, the longest client id, the longest
    # user id): random values rarely hit them, and off-by-one limits live there.
    longest = next(iter(boundaries(component("UserId"))), None)
    if isinstance(longest, str):
        owner = f"{HARNESS_USERS}{longest}"[: len(longest)]
        exchange = ctx.client.create(owner, {})
        _track(ctx, owner, exchange)
        finding = expect_status(exchange, 201, f"create for the longest user id {owner!r}")
        if finding is not None:
            yield finding
            return
    for body in boundary_bodies(CREATE, omit=_omitted(ctx)):
        try:
            finding = probe(body)
        except NotInLayout as exc:  # a field the layout does not have
            ctx.untranslatable(str(exc))
            continue
        if finding is not None:
            yield finding
            return
    for subset in subsets:
        found = list(
            for_all(ctx, valid_bodies(CREATE, present=subset), probe, max_examples=per_subset)
        )
        yield from found
        if found:
            return


@check("VAL-007")
def every_valid_run_body_is_200(ctx: CheckContext) -> Iterator[Finding]:
    created = ctx.ready()
    fixed: dict[str, JSONValue] = {"user_id": created.user_id, "session_id": created.session_id}

    def probe(body: dict[str, JSONValue]) -> Finding | None:
        exchange = ctx.client.call("run", body=body)
        return expect_status(
            exchange, 200, f"run on a Ready session with a valid body: {_short(body)}"
        )

    for parts in EDGE_PARTS:  # the edges first: one part, many, empty and long texts
        message: JSONValue = {"role": "user", "parts": [{"text": text} for text in parts]}
        finding = probe({**fixed, "new_message": message})
        if finding is not None:
            yield finding
            return
    yield from for_all(ctx, valid_bodies(RUN, overrides=fixed), probe)


@check("VAL-008")
def patterns_match_the_whole_id(ctx: CheckContext) -> Iterator[Finding]:
    profile = ctx.client.profile
    places = ["run body session_id", "run body user_id", "create path user_id"]
    if "client_ids" in ctx.settings.features:
        places.append("create body session_id")
    if profile.route("run").place("run", "session_id").where != "body":
        places.remove("run body session_id")  # a path id is opaque to lookups: no pattern
    if not profile.users:
        places = [p for p in places if not p.endswith("user_id")]  # no user id is sent
    if not places:
        raise NotApplicable(
            f"profile {profile.name!r} carries no id this clause can pad: the run's session "
            "id is not in its body, and there are no users or client-chosen ids"
        )
    ids = profile.session_ids
    session_ids: st.SearchStrategy[JSONValue] = (
        values(component("ClientSessionId"))
        if ids.kind == "any"
        else st.integers(0, 2**64).map(lambda n: ids.invent(random.Random(n)))
    )
    # Valid user ids in the harness's namespace: a backend that trims the padding acts
    # as that user, never as one who may be real.
    user_ids = harness_user_ids()

    def probe(case: tuple[str, str, str, bool]) -> Finding | None:
        place, base, pad, before = case
        padded = pad + base if before else base + pad
        name = place.rsplit(" ", 1)[-1]
        what = f"{place} {padded!r} (a valid id {'after' if before else 'followed by'} {pad!r})"
        role = "run" if place.startswith("run") else "create"
        if place.startswith("run"):
            exchange = ctx.client.call("run", raw=encode(_run_body(ctx, **{name: padded})))
        elif place == "create path user_id":
            exchange = ctx.client.create(padded, {})
            _track(ctx, padded, exchange)
        else:
            user = ctx.new_user()
            exchange = ctx.client.create(user, {"session_id": padded})
            _track(ctx, user, exchange)
        if name == "session_id" and _looked_up(ctx, exchange, role, padded):
            return None
        if name == "session_id" and _refused_off_format(ctx, exchange, padded):
            return None
        return expect_validation_error(exchange, name, what)

    def case_for(place: str) -> st.SearchStrategy[tuple[str, str, str, bool]]:
        ids = user_ids if place.endswith("user_id") else session_ids
        return st.tuples(st.just(place), ids, st.sampled_from(PADDINGS), st.booleans())

    strategy = st.sampled_from(places).flatmap(case_for)
    yield from for_all(ctx, strategy.filter(lambda c: not is_missing_id(c[1])), probe)


@check("VAL-009")
def validation_errors_carry_pointers(ctx: CheckContext) -> Iterator[Finding]:
    user = ctx.new_user()
    seen: list[Exchange] = []

    def probe(case: tuple[str, Mutation]) -> Finding | None:
        role, mutation = case
        if role == "run":
            _sendable(ctx, mutation)
        if role == "create":
            exchange = _create_raw(ctx, user, mutation.body)
        else:
            body = _own_ids(mutation, ctx.new_user(), ctx.new_session_id())
            exchange = ctx.client.call("run", raw=encode(body))
        if exchange.status != 422:
            return None  # whether it should be a 422 is VAL-002/VAL-003's question
        seen.append(exchange)
        return _envelope_422_problem(exchange, mutation)

    creates = invalid_bodies(CREATE, omit=_omitted(ctx)).map(lambda m: ("create", m))
    runs = invalid_bodies(RUN).map(lambda m: ("run", m))
    yield from for_all(ctx, st.one_of(creates, runs), probe)
    if not seen:
        raise Undecided("no invalid body drew a 422, so the shape of a 422 could not be checked")


# -- probes -------------------------------------------------------------------------------


def _per_site(
    ctx: CheckContext,
    name: str,
    sites: list[Site] | tuple[Site, ...],
    probe: Callable[[Mutation], Finding | None],
    *,
    omit: frozenset[str] = frozenset(),
    per_site: int | None = None,
) -> Iterator[Finding]:
    """Every site gets its own examples, so each way of breaking a body is tried."""
    count = per_site or max(2, ctx.settings.max_examples // len(sites))
    found = 0
    for site in sites:
        strategy = invalid_bodies(name, site, omit=omit)
        for finding in for_all(ctx, strategy, probe, max_examples=count):
            yield finding
            found += 1
        if found >= ENOUGH:
            return


def _create_probe(ctx: CheckContext, user: str) -> Callable[[Mutation], Finding | None]:
    def probe(mutation: Mutation) -> Finding | None:
        exchange = _create_raw(ctx, user, mutation.body)
        if mutation.pointer == "/session_id" and _refused_off_format(
            ctx, exchange, get(mutation.body, ("session_id",))
        ):
            return None
        return expect_validation_error(
            exchange, mutation.field, f"create with {mutation.describe()}", holder=mutation.holder
        )

    return probe


def _run_probe(ctx: CheckContext) -> Callable[[Mutation], Finding | None]:
    """Each invalid run body is sent twice: naming a never-created session (schema
    validation comes before existence: 422, not 404), then a live, Ready session of the
    harness's own user, where a backend that looks the session up first reaches the
    handler (422, never a crash). The fields the mutation did not break are the
    harness's own: a user id in its namespace, a session id it made."""
    live: list[Created] = []

    def judged(mutation: Mutation, body: JSONValue, why: str) -> Finding | None:
        exchange = ctx.client.call("run", raw=encode(body))
        sent = body.get("session_id") if isinstance(body, dict) else None
        if mutation.pointer.startswith("/session_id") and _looked_up(ctx, exchange, "run", sent):
            return None
        return expect_validation_error(exchange, mutation.field, why, holder=mutation.holder)

    def probe(mutation: Mutation) -> Finding | None:
        _sendable(ctx, mutation)
        missing = _own_ids(mutation, ctx.new_user(), ctx.new_session_id())
        first = judged(mutation, missing, f"run with {mutation.describe()}")
        if not live:
            live.append(ctx.ready())
        body = _own_ids(mutation, live[0].user_id, live[0].session_id)
        why = f"run on the live, Ready session {live[0].session_id!r} with {mutation.describe()}"
        second = judged(mutation, body, why)
        # A crash where the handler runs is the graver finding; else the first one.
        crashed = (
            second is not None and (second.exchange.status if second.exchange else 0)
        ) or 0 >= 500
        return second if crashed else first or second

    return probe


def _sendable(ctx: CheckContext, mutation: Mutation) -> None:
    """Raise :class:`NotInLayout` for a run body broken where the layout's body is not:
    at its user id in a layout without users (no place carries it, so the body would go
    out valid), or at its session id where the layout puts it in the path (opaque to
    lookups: no pattern to break, CONTRACT.md). Skipped with the reason, never sent as
    something else."""
    profile = ctx.client.profile
    if mutation.pointer.startswith("/user_id") and not profile.users:
        why = "the layout has no users (users = false)"
    elif (
        mutation.pointer.startswith("/session_id")
        and profile.route("run").place("run", "session_id").where == "path"
    ):
        why = "the run's session id travels in the path, where ids are opaque"
    else:
        return
    raise NotInLayout(f"profile {profile.name!r}: {why}: a run body broken at {mutation.pointer}")


def _refused_off_format(ctx: CheckContext, exchange: Exchange, value: object) -> bool:
    """A client-chosen id off the format the profile declares for the target's ids may
    be refused with 400 or 422 in the target's envelope, naming no field (CONTRACT.md,
    "Precisions": never looked up, created or answered 2xx). Only a string is judged
    so: a wrong type is the schema's business (422 naming the field)."""
    ids = ctx.client.profile.session_ids
    if ids.kind == "any" or not isinstance(value, str) or ids.admits(value):
        return False
    return exchange.status in (400, 422) and not envelope_problems(exchange)


def _looked_up(ctx: CheckContext, exchange: Exchange, role: str, sent: JSONValue) -> bool:
    """Whether the answer to a session id ``sent`` outside the body is one CONTRACT.md
    allows there. Only the body's id is held to its pattern; an id the layout carries in
    the path, the query or a header is opaque to lookups: one that names no session may
    be 404 SESSION_NOT_FOUND whatever its shape (in the path, any 404: the path names
    nothing), as well as 422. Where the profile declares an id format the id breaks, 400
    is allowed too ("Precisions": never looked up as a session, created, or 2xx)."""
    profile = ctx.client.profile
    place = profile.route(role).place(role, "session_id")
    if place.where == "body":
        return False
    if exchange.status == 404:
        return place.where == "path" or field(exchange, "error") == "SESSION_NOT_FOUND"
    off_format = profile.session_ids.kind != "any" and not (
        isinstance(sent, str) and profile.session_ids.admits(sent)
    )
    return off_format and exchange.status in (400, 422)


def _own_ids(mutation: Mutation, user_id: str, session_id: str) -> JSONValue:
    """The mutated run body with the ids it did not break replaced by the harness's own."""
    body = mutation.body
    if not isinstance(body, dict):
        return body
    fixed = dict(body)
    for name, value in (("user_id", user_id), ("session_id", session_id)):
        if name in fixed and not mutation.pointer.startswith(f"/{name}"):
            fixed[name] = value
    return fixed


def _track_any(ctx: CheckContext, exchange: Exchange) -> None:
    """A create sent with no user id that made a session anyway: whose it is is not
    known (not a user of the harness's), so it is named in the clean-up's reach only
    when the answer says whose (``session.user_id``)."""
    if exchange.status in (200, 201):
        try:
            owner = field(exchange, "session", "user_id")
        except NotInLayout:  # the layout's answers do not say whose it is
            return
        if isinstance(owner, str):
            _track(ctx, owner, exchange)


def _live_user(ctx: CheckContext) -> str:
    """A user of the harness's who owns a session (made best effort): invalid create
    bodies reach the handler of a user with live sessions too."""
    user = ctx.new_user()
    _track(ctx, user, ctx.client.create(user, {}))
    return user


def _create_raw(ctx: CheckContext, user: str, body: JSONValue) -> Exchange:
    """Create with ``body`` encoded as given (``null`` included); track what it made."""
    exchange = ctx.client.call("create", user_id=user, raw=encode(body))
    _track(ctx, user, exchange)
    return exchange


def _track(ctx: CheckContext, user: str, exchange: Exchange) -> None:
    """A create that should have failed but made a session: clean it up afterwards."""
    if exchange.status in (200, 201):
        session_id = ctx.client.created_id(exchange)
        if session_id is not None:
            ctx.track(user, session_id)


def _run_body(ctx: CheckContext, **fields: str) -> dict[str, JSONValue]:
    body: dict[str, JSONValue] = {
        "user_id": ctx.new_user(),
        "session_id": ctx.new_session_id(),
        "new_message": {"role": "user", "parts": [{"text": "hello"}]},
    }
    body.update(fields)
    return body


def _envelope_422_problem(exchange: Exchange, mutation: Mutation) -> Finding | None:
    problems = validation_envelope_problems(exchange)
    if not problems:
        return None
    return Finding(
        f"422 for {mutation.describe()}: {'; '.join(problems[:3])}; got {describe(exchange)}",
        VALIDATION_ENVELOPE,
        exchange,
    )


# -- values -------------------------------------------------------------------------------


def _omitted(ctx: CheckContext) -> frozenset[str]:
    """Create-body fields left out: ``session_id`` when the target mints every id."""
    return frozenset() if "client_ids" in ctx.settings.features else frozenset({"session_id"})


def _unique(ctx: CheckContext, session_id: str) -> str:
    """A drawn client id made unique (ids may be global, and a deleted id need not be
    free again), keeping its first characters and at most 128 in all; where the profile
    declares a format for the target's ids that this one does not fit, a fresh id in
    that format instead (CONTRACT.md, "Precisions")."""
    unique = f"{session_id[:111]}-{ctx.rng.getrandbits(64):016x}"
    return unique if ctx.client.profile.session_ids.admits(unique) else ctx.new_session_id()


def _path_safe(user_id: str) -> bool:
    """Ids that stay one printable path segment through any proxy (no ``/``, no dot
    segments, no control characters)."""
    return (
        bool(user_id.strip())
        and "/" not in user_id
        and user_id.isprintable()
        and (user_id not in (".", ".."))
    )


def _short(value: JSONValue) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
