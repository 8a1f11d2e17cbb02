"""Building a :class:`~conformance.profile.model.Profile` from a profile file's parsed keys.

The schema (``specs/profile.schema.json``) has already said the keys are well formed;
:class:`Builder` checks what a schema cannot say — every ``{...}`` of a path is filled, a
``path`` place has its placeholder, every shape and value map named exists, a regular
expression compiles — and raises one :class:`ProfileError` naming the file, the key and
what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conformance.pointers import tokens
from conformance.profile.ids import INVENTED_FORMS, IdFormat
from conformance.profile.model import (
    BUILTIN_ENVELOPES,
    CANONICAL_SOURCES,
    FEATURES,
    CodeRule,
    Envelope,
    FieldMap,
    Frames,
    MessageForm,
    Place,
    Profile,
    Route,
    Source,
)
from conformance.profile.units import SUFFIXES, Conversion, contract_unit

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class ProfileError(Exception):
    """A profile that cannot be used: missing, unreadable or malformed (one message)."""


class Builder:
    def __init__(
        self,
        data: dict[str, Any],
        origin: str,
        overrides: Mapping[str, str],
        folder: Path | None = None,
    ) -> None:
        self.data = data
        self.origin = origin
        self.folder = folder
        self.variables: dict[str, str] = dict(data.get("variables", {}))
        for key, value in overrides.items():
            if key not in self.variables:
                have = ", ".join(sorted(self.variables)) or "none"
                raise self.error("variables", f"no variable {key!r} to set (variables: {have})")
            self.variables[key] = value
        self.shape_names = set(data.get("shapes", {}))
        self.map_names = set(data.get("value_maps", {}))
        self.users = bool(data.get("users", True))

    def error(self, where: str, what: str) -> ProfileError:
        return ProfileError(f"{self.origin}: {where}: {what}")

    def build(self, name: str) -> Profile:
        data = self.data
        base = str(data.get("base_path", ""))
        routes = tuple(  # in the file's order (the order properties sample roles in)
            (role, self.route(role, spec, base)) for role, spec in data["roles"].items()
        )
        readiness = str(data.get("readiness", "status"))
        if readiness == "status" and "status" not in data["roles"]:
            raise self.error(
                "readiness",
                "'status' needs a roles.status route (or readiness = \"immediate\": "
                "sessions are Ready at create)",
            )
        shapes = tuple(
            (shape, self.view(f"shapes.{shape}", mapping))
            for shape, mapping in sorted(data.get("shapes", {}).items())
        )
        declared = frozenset(data.get("features", (f for f in FEATURES if f != "users")))
        return Profile(
            name=str(data.get("name", name)),
            routes=routes,
            envelope=self.envelope(data.get("envelope", "contract")),
            readiness=readiness,
            features=declared | ({"users"} if self.users else set()),
            shapes=shapes,
            description=str(data.get("description", "")),
            origin=self.origin,
            other_methods=tuple(
                (self.template(f"other_methods.{path}", base, path), frozenset(methods))
                for path, methods in data.get("other_methods", {}).items()
            ),
            session_ids=self.id_format(data.get("session_id_format")),
            value_maps=tuple((m, self.value_map(m)) for m in sorted(self.map_names)),
            openapi=self.openapi(data.get("openapi")),
        )

    def openapi(self, spec: str | None) -> str:
        """The document's source with a file made absolute (``file:PATH``); a path on
        the target (``/...``) or a URL as written."""
        if spec is None:
            return ""
        text = self.fill("openapi", spec)
        if text.startswith(("http://", "https://", "/")):
            return text
        path = Path(text.removeprefix("file:"))
        if not path.is_absolute():
            if self.folder is None:
                raise self.error("openapi", f"{text!r}: a relative file needs a profile file")
            path = self.folder / path
        return f"file:{path}"

    def id_format(self, spec: str | None) -> IdFormat:
        if spec is None:
            return IdFormat()
        if spec == "uuid":
            return IdFormat("uuid")
        try:
            re.compile(spec)
        except re.error as exc:
            raise self.error("session_id_format", f"{spec!r} is not a regex: {exc}") from exc
        made = IdFormat("pattern", spec)
        if not made.inventable():
            raise self.error(
                "session_id_format",
                f"{spec!r} admits none of the ids the harness invents ({INVENTED_FORMS})",
            )
        return made

    def template(self, where: str, base: str, path: str) -> str:
        """A path template: the base path, then the path with its variables filled in."""
        if not path.startswith("/"):
            raise self.error(where, f"{path!r} is not a path (it starts with '/')")
        return base + self.fill(where, path, keep=("user_id", "session_id"))

    def fill(self, where: str, text: str, keep: tuple[str, ...] = ()) -> str:
        """``text`` with every ``{variable}`` filled in (``keep``: placeholders left)."""

        def one(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in keep:
                return match.group(0)
            if key not in self.variables:
                have = ", ".join(sorted(self.variables)) or "none"
                allowed = f"{', '.join(keep)} or a variable" if keep else "a variable"
                raise self.error(where, f"{{{key}}} is not {allowed} (variables: {have})")
            return self.variables[key]

        return _PLACEHOLDER.sub(one, text)

    def route(self, role: str, spec: dict[str, Any], base: str) -> Route:
        at = f"roles.{role}"
        template = self.template(f"{at}.path", base, spec["path"])
        places: list[tuple[str, Place]] = []
        if not self.users:
            if "user_id" in spec or "{user_id}" in template:
                raise self.error(
                    f"{at}.user_id", "users = false: the layout has no user id to place"
                )
            places.append(("user_id", Place("none")))
        for value in ("user_id", "session_id", "message"):
            if value in spec:
                places.append((value, Place.parse(spec[value])))
        route = Route(spec["method"], template, places=tuple(places))
        for value in ("user_id", "session_id"):
            placeholder = "{" + value + "}" in template
            is_path = route.place(role, value).where == "path"
            if placeholder and not is_path:
                raise self.error(
                    f"{at}.{value}", f"the path has {{{value}}} but the {value} goes elsewhere"
                )
            if is_path and not placeholder:
                raise self.error(f"{at}.{value}", f"'path', but {at}.path has no {{{value}}}")
            if value not in dict(CANONICAL_SOURCES[role]) and value in spec:
                raise self.error(f"{at}.{value}", f"a {role} request carries no {value}")
        if "message" in spec and role not in ("run", "run_stream"):
            raise self.error(f"{at}.message", f"a {role} request carries no message")
        frame = spec.get("frame")
        if frame is not None:
            self.known_shape(f"{at}.frame", frame)
        frames = self.frames(at, spec)
        form = self.message_form(at, role, route, spec)
        return Route(
            route.method,
            template,
            places=route.places,
            request=tuple(
                (key, self.request_field(f"{at}.request.{key}", key, v))
                for key, v in spec.get("request", {}).items()
            ),
            constants=tuple(
                (key, json.dumps(self.fill_json(f"{at}.constants", value)))
                for key, value in spec.get("constants", {}).items()
            ),
            response=self.view(f"{at}.response", spec["response"]) if "response" in spec else None,
            frame=frame,
            frames=frames,
            message_form=form,
            success_status=spec.get("success_status"),
            created_id=tuple(spec.get("created_id", ())),
        )

    def request_field(self, where: str, canonical: str, spec: Any) -> Source:
        """Where a request's field goes: a pointer, ``{to, unit}`` or ``{absent}``."""
        if isinstance(spec, str):
            return Source("copy", spec)
        if "unit" in spec:
            return Source(
                "unit",
                spec["to"],
                spec["unit"],
                unit=self.conversion(where, canonical, spec["unit"]),
            )
        return Source("absent", value=spec["absent"])

    def conversion(self, where: str, canonical: str, unit: str) -> Conversion:
        """The conversion for the contract's field ``canonical`` (its unit by its name)."""
        contract = contract_unit(canonical)
        if contract is None:
            suffixes = ", ".join(SUFFIXES)
            raise self.error(
                f"{where}.unit",
                f"{canonical} is no duration of the contract (its name ends in none of {suffixes})",
            )
        return Conversion(contract, unit)

    def frames(self, at: str, spec: dict[str, Any]) -> Frames | None:
        table = spec.get("frames")
        if table is None:
            return None
        if "frame" in spec:
            raise self.error(f"{at}.frames", f"give {at}.frame or {at}.frames, not both")
        self.known_shape(f"{at}.frames.shape", table["shape"])
        return Frames(table["shape"], table.get("event", ""), table.get("each", ""))

    def message_form(
        self, at: str, role: str, route: Route, spec: dict[str, Any]
    ) -> MessageForm | None:
        table = spec.get("message_form")
        if table is None:
            return None
        if role not in ("run", "run_stream") or route.place(role, "message").where != "body":
            raise self.error(
                f"{at}.message_form", "only a run or run_stream message in the body has a form"
            )
        string = bool(table.get("string", False))
        if string and set(table) - {"string"}:
            raise self.error(
                f"{at}.message_form",
                "string = true: the message travels as its text alone (no text, role or wrap)",
            )
        return MessageForm(
            table.get("text", ""), table.get("role", "/role"), table.get("wrap", False), string
        )

    def fill_json(self, where: str, value: Any) -> Any:
        if isinstance(value, str):
            return self.fill(where, value)
        if isinstance(value, list):
            return [self.fill_json(where, v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill_json(where, v) for k, v in value.items()}
        return value

    def known_map(self, where: str, name: str) -> None:
        if name not in self.map_names:
            have = ", ".join(sorted(self.map_names)) or "none"
            raise self.error(where, f"no value_maps.{name} in this profile (value maps: {have})")

    def known_shape(self, where: str, shape: str) -> None:
        if shape not in self.shape_names:
            have = ", ".join(sorted(self.shape_names)) or "none"
            raise self.error(where, f"no shapes.{shape} in this profile (shapes: {have})")

    def view(self, at: str, mapping: dict[str, Any]) -> FieldMap:
        entries: list[tuple[str, Source]] = []
        for key, spec in mapping.items():
            where = f"{at}.{key}"
            entries.append((key, self.source(where, key, spec)))
        return tuple(entries)

    def source(self, where: str, canonical: str, spec: Any) -> Source:
        if isinstance(spec, str):
            return Source("copy", spec)
        if "unit" in spec:
            conversion = self.conversion(where, canonical, spec["unit"])
            return Source("unit", spec["from"], spec["unit"], unit=conversion)
        if "const" in spec:
            return Source("const", value=json.dumps(self.fill_json(where, spec["const"])))
        if "as" in spec:
            return Source("convert", spec["from"], spec["as"])
        if "map" in spec:
            self.known_map(f"{where}.map", spec["map"])
            return Source("map", spec["from"], spec["map"])
        for kind in ("shape", "each"):
            if kind in spec:
                self.known_shape(f"{where}.{kind}", spec[kind])
                return Source(kind, spec.get("from", ""), spec[kind])
        if "count" in spec:
            where_items = tuple(
                (key, json.dumps(value)) for key, value in spec.get("where", {}).items()
            )
            for key, _ in where_items:
                tokens(key)
            default = json.dumps(spec["default"]) if "default" in spec else ""
            return Source("count", spec["count"], default, where=where_items)
        if "header" in spec:
            return Source("header", value=spec["header"])
        if "parts" in spec:
            return Source("parts", spec["parts"])
        return Source("absent", value=spec["absent"])

    def envelope(self, spec: Any) -> Envelope:
        if isinstance(spec, str):
            return BUILTIN_ENVELOPES[spec]
        base = BUILTIN_ENVELOPES[spec["kind"]]
        code_map = spec.get("code_map")
        if code_map is not None:
            self.known_map("envelope.code_map", code_map)
        rules: list[CodeRule] = []
        for index, rule in enumerate(spec.get("codes", ())):
            pattern = rule.get("message")
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise self.error(
                        f"envelope.codes.{index}.message", f"{pattern!r} is not a regex: {exc}"
                    ) from exc
            rules.append(CodeRule(rule["code"], rule.get("status"), pattern))
        return Envelope(
            kind=base.kind,
            media_type=spec.get("media_type", base.media_type),
            code=spec.get("code", base.code),
            message=spec.get("message", base.message),
            errors=spec.get("errors", base.errors),
            error_path=spec.get("error_path", base.error_path),
            error_message=spec.get("error_message", base.error_message),
            codes=(*rules, *base.codes),
            code_map=() if code_map is None else self.value_map(code_map),
        )

    def value_map(self, name: str) -> tuple[tuple[str, str], ...]:
        values = self.data.get("value_maps", {}).get(name, {})
        return tuple((str(k), str(v)) for k, v in values.items())
