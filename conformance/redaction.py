"""Redaction of secrets before anything is recorded, printed or written.

A :class:`Redactor` knows the secrets of one run (the bearer token, and any header the
user names) and replaces them with ``[REDACTED]`` in headers and bodies. Every exchange
passes through it when it is recorded, so no reporter ever sees a secret. Fields the user
names (``--redact-field api_key``) have their values masked in every JSON body, at any
depth, and in bodies that are not one JSON document (an SSE stream) wherever
``"name": value`` appears. :func:`redactor_for` refuses names the checks must read.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from conformance.contract import openapi
from conformance.records import JSONValue

MARK = "[REDACTED]"
#: Characters a token is made of. A short secret is replaced only where it stands alone,
#: not inside a longer word: a token ``t`` must not turn ``"turns"`` into garbage and
#: break the JSON the checks read.
_TOKEN_CHARS = r"A-Za-z0-9_-"
LONG_SECRET = 8
ALWAYS_SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})
#: Headers the checks read: masking them would make clauses pass or fail on ``[REDACTED]``.
CHECKED_HEADERS = frozenset(
    {"content-type", "content-length", "location", "allow", "www-authenticate", "vary", "origin"}
)


@dataclass(frozen=True, slots=True)
class Redactor:
    secrets: tuple[str, ...] = ()
    headers: frozenset[str] = ALWAYS_SECRET_HEADERS
    #: JSON field names (lower case) whose values are masked in every body.
    fields: frozenset[str] = frozenset()

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        """This redactor, also hiding ``secrets`` (the token, a URL's password)."""
        extra = tuple(s for s in secrets if s and s not in self.secrets)
        return dataclasses.replace(self, secrets=self.secrets + extra) if extra else self

    def header(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered not in self.headers:
            return self.text(value)
        if lowered != "authorization":
            return MARK
        scheme, _, credentials = value.partition(" ")
        if credentials and not self._is_secret(credentials):
            return value  # a credential the harness made up to probe auth: shown, not secret
        # Keep the scheme: a wrong scheme is often the very thing a check probes.
        return f"{scheme} {MARK}" if credentials else MARK

    def headers_of(self, pairs: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple((name, self.header(name, value)) for name, value in pairs)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret:
                value = _standalone(secret).sub(MARK, value)
        return value

    def body(self, value: bytes) -> bytes:
        for secret in self.secrets:
            if secret:
                pattern = re.compile(_standalone(secret).pattern.encode("utf-8"))
                value = pattern.sub(MARK.encode("utf-8"), value)
        return self._mask_fields(value) if self.fields and value else value

    def _mask_fields(self, value: bytes) -> bytes:
        try:
            document = json.loads(value)
        except ValueError:  # not one JSON document (SSE, text): mask "name": scalar pairs
            return _field_pattern(self.fields).sub(rb'\1"' + MARK.encode() + rb'"', value)
        masked, changed = _mask(document, self.fields)
        if not changed:
            return value
        return json.dumps(masked, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _is_secret(self, value: str) -> bool:
        # Known secrets are always hidden; an unknown credential is a probe value the
        # harness made up (e.g. a wrong token) and is shown so the failure is readable.
        return not self.secrets or any(secret and secret in value for secret in self.secrets)


@functools.cache
def _standalone(secret: str) -> re.Pattern[str]:
    """Where ``secret`` is to be replaced: everywhere when it is long enough never to
    occur by chance (also inside a longer word, as in a probe's ``<token>x``); only
    where it stands alone when it is short."""
    if len(secret) >= LONG_SECRET:
        return re.compile(re.escape(secret))
    return re.compile(rf"(?<![{_TOKEN_CHARS}]){re.escape(secret)}(?![{_TOKEN_CHARS}])")


def redactor_for(headers: Iterable[str] = (), fields: Iterable[str] = ()) -> Redactor:
    """A redactor also hiding the named headers and JSON fields; ``ValueError`` names one
    the checks must read (a contract field such as ``session_id``, or ``Location``)."""
    header_names = {name.strip().lower() for name in headers}
    field_names = {name.strip().lower() for name in fields}
    if "" in header_names or "" in field_names:
        raise ValueError("a header or field name to redact is empty")
    checked = sorted(
        n for n in header_names if n in CHECKED_HEADERS or n.startswith("access-control-")
    )
    if checked:
        raise ValueError(
            f"cannot redact header {checked[0]}: the checks read it (name a header your "
            "backend adds, e.g. X-Api-Key)"
        )
    contract = sorted(field_names & contract_fields())
    if contract:
        raise ValueError(
            f"cannot redact field {contract[0]}: it is a field of the contract and the "
            "checks read it (name a field your backend adds, e.g. api_key)"
        )
    return Redactor(headers=ALWAYS_SECRET_HEADERS | header_names, fields=frozenset(field_names))


@functools.cache
def contract_fields() -> frozenset[str]:
    """Every property name the OpenAPI document defines, in lower case."""
    names: set[str] = set()
    stack: list[object] = [openapi()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                names.update(str(name).lower() for name in properties)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(names)


def _mask(node: JSONValue, fields: frozenset[str]) -> tuple[JSONValue, bool]:
    if isinstance(node, dict):
        changed = False
        out: dict[str, JSONValue] = {}
        for key, item in node.items():
            if key.lower() in fields:
                out[key], changed = MARK, True
            else:
                out[key], inner = _mask(item, fields)
                changed = changed or inner
        return out, changed
    if isinstance(node, list):
        pairs = [_mask(item, fields) for item in node]
        return [item for item, _ in pairs], any(inner for _, inner in pairs)
    return node, False


@functools.cache
def _field_pattern(fields: frozenset[str]) -> re.Pattern[bytes]:
    names = b"|".join(re.escape(name.encode("utf-8")) for name in sorted(fields))
    scalar = rb'"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null'
    return re.compile(rb'("(?:' + names + rb')"\s*:\s*)(?:' + scalar + rb")", re.IGNORECASE)
