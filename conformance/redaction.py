"""Redaction of secrets before anything is recorded, printed or written.

A :class:`Redactor` knows the secrets of one run (the bearer token, the credentials of
the target URL, and any header the user names) and replaces them in headers and bodies.
Every exchange passes through it when it is recorded, so no reporter ever sees a secret.

A value derived from a secret is a secret too. Each secret is hidden in every
:class:`Form` it may take: itself (``[REDACTED]``), in swapped case
(``[REDACTED:swapcase]``), without its last character (``[REDACTED:truncated]``), in
base64 (``[REDACTED:base64]``) and URL-encoded (``[REDACTED:url-encoded]``); the mark
names the form, so a probe such as AUTH-002's near misses stays readable and a curl line
can compute it again from the variable that holds the secret
(:mod:`conformance.reporting.curl`). A URL's ``user:password`` reads
``${SESSION_CONFORMANCE_USERINFO}`` wherever it would appear (its password is a secret,
its ``Authorization: Basic`` credentials read ``[REDACTED:userinfo]``), so that every
URL stays a URL and every shell line takes the credentials from that variable.

Fields the user names (``--redact-field api_key``) have their values masked in every
JSON body, at any depth, and in bodies that are not one JSON document (an SSE stream)
wherever ``"name": value`` appears. :func:`redactor_for` refuses names the checks must
read.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, unquote, urlsplit

from conformance.contract import openapi
from conformance.records import JSONValue

MARK = "[REDACTED]"
#: The environment variable shell lines read a target URL's ``user:password`` from
#: (as written in the URL, percent-encoding included).
USERINFO_VARIABLE = "SESSION_CONFORMANCE_USERINFO"
#: What a URL's ``user:password`` reads in every output.
USERINFO_MARK = "${" + USERINFO_VARIABLE + "}"
#: What the ``Authorization: Basic`` credentials made of a URL's userinfo read.
BASIC_MARK = "[REDACTED:userinfo]"
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


class Form(enum.Enum):
    """A form a secret may take in an output, each hidden behind its own :attr:`mark`."""

    SAME = "same"
    SWAPCASE = "swapcase"
    TRUNCATED = "truncated"
    BASE64 = "base64"
    URL_ENCODED = "url-encoded"

    @property
    def mark(self) -> str:
        return MARK if self is Form.SAME else f"[REDACTED:{self.value}]"

    def of(self, secret: str) -> tuple[str, ...]:
        """The texts ``secret`` takes in this form (none may be empty)."""
        if self is Form.SAME:
            texts: tuple[str, ...] = (secret,)
        elif self is Form.SWAPCASE:
            texts = (secret.swapcase(),)
        elif self is Form.TRUNCATED:
            texts = (secret[:-1],)
        elif self is Form.URL_ENCODED:
            texts = (quote(secret, safe=""), quote_plus(secret, safe=""))
        else:
            raw = secret.encode("utf-8")
            encoded = (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode())
            texts = tuple(text for full in encoded for text in (full, full.rstrip("=")))
        return tuple(dict.fromkeys(text for text in texts if text))


@dataclass(frozen=True, slots=True)
class Userinfo:
    """The credentials of a URL (``http://user:password@host``)."""

    #: As written in the URL (percent-encoding included): what ``$SESSION_CONFORMANCE_USERINFO``
    #: must hold for a shell line to send them again.
    written: str
    user: str
    password: str

    @property
    def secret(self) -> str:
        """The part that is secret: the password, or the user when there is none (a URL
        such as ``https://<api key>@host``)."""
        return self.password or self.user

    @property
    def basic(self) -> str:
        """The ``Authorization: Basic`` credentials made of them (RFC 7617)."""
        return base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")


def userinfo_of(url: str | None) -> Userinfo | None:
    """The credentials in ``url``, or None when it has none."""
    if not url:
        return None
    netloc = urlsplit(url).netloc
    written, at, _ = netloc.rpartition("@")
    if not at or not written:
        return None
    user, _, password = written.partition(":")
    return Userinfo(written=written, user=unquote(user), password=unquote(password))


def public_url(url: str) -> str:
    """``url`` as every output shows it: its credentials read ``${SESSION_CONFORMANCE_USERINFO}``."""
    return Redactor().with_url(url).text(url)


@dataclass(frozen=True, slots=True)
class Redactor:
    secrets: tuple[str, ...] = ()
    headers: frozenset[str] = ALWAYS_SECRET_HEADERS
    #: JSON field names (lower case) whose values are masked in every body.
    fields: frozenset[str] = frozenset()
    #: Every text hidden, with the mark that replaces it: each :class:`Form` of each
    #: secret, and a URL's userinfo. Longest first, so a secret is never half replaced.
    forms: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.secrets and not self.forms:  # built with secrets: hide every form of them
            object.__setattr__(self, "forms", Redactor().with_secrets(self.secrets).forms)

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        """This redactor, also hiding ``secrets`` (the token, a URL's password) in every
        :class:`Form`."""
        extra = tuple(dict.fromkeys(s for s in secrets if s and s not in self.secrets))
        if not extra:
            return self
        forms = dict(self.forms)
        for secret in extra:
            for form in Form:
                for text in form.of(secret):
                    forms.setdefault(text, form.mark)
        return dataclasses.replace(self, secrets=self.secrets + extra, forms=_longest_first(forms))

    def with_url(self, url: str | None) -> Redactor:
        """This redactor, also hiding the credentials of ``url``: ``user:password`` (as
        written, and decoded) reads ``${SESSION_CONFORMANCE_USERINFO}``, its Basic
        credentials ``[REDACTED:userinfo]``, and the password is a secret."""
        userinfo = userinfo_of(url)
        if userinfo is None:
            return self
        redactor = self.with_secrets([userinfo.secret])
        forms = dict(redactor.forms)
        decoded = f"{userinfo.user}:{userinfo.password}" if userinfo.password else userinfo.user
        for text in (userinfo.written, decoded):
            forms[text] = USERINFO_MARK
        for text in Form.BASE64.of(f"{userinfo.user}:{userinfo.password}"):
            forms[text] = BASIC_MARK
        return dataclasses.replace(redactor, forms=_longest_first(forms))

    def header(self, name: str, value: str) -> str:
        lowered = name.lower()
        if lowered not in self.headers:
            return self.text(value)
        if lowered != "authorization":
            return MARK
        scheme, space, credentials = value.partition(" ")
        if not self.forms:  # nothing known to look for: no credential is shown
            return f"{scheme} {MARK}" if space else MARK
        # A credential is one word: a secret is hidden also inside it (``<token>x``),
        # however short. Any other credential is a probe value the harness made up (a
        # wrong token) and is shown, so the failure is readable. The scheme is kept: a
        # wrong scheme is often the very thing a check probes.
        if not space:
            return _replace(self.forms, value, anywhere=True)
        return f"{scheme} {_replace(self.forms, credentials, anywhere=True)}"

    def headers_of(self, pairs: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple((name, self.header(name, value)) for name, value in pairs)

    def text(self, value: str) -> str:
        return _replace(self.forms, value, anywhere=False) if self.forms else value

    def body(self, value: bytes) -> bytes:
        if self.forms and value:
            pattern, marks = _bytes_pattern(self.forms)
            value = pattern.sub(lambda found: marks[found.group()], value)
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


def _longest_first(forms: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(forms.items(), key=lambda item: -len(item[0])))


def _replace(forms: tuple[tuple[str, str], ...], value: str, *, anywhere: bool) -> str:
    marks = dict(forms)
    return _pattern(forms, anywhere).sub(lambda found: marks[found.group()], value)


@functools.cache
def _pattern(forms: tuple[tuple[str, str], ...], anywhere: bool) -> re.Pattern[str]:
    """One pattern for every form, longest first. A form long enough never to occur by
    chance is found everywhere (also inside a longer word, as in a probe's
    ``<token>x``); a short one only where it stands alone, unless ``anywhere``."""
    return re.compile("|".join(_where(text, anywhere) for text, _ in forms))


@functools.cache
def _bytes_pattern(
    forms: tuple[tuple[str, str], ...],
) -> tuple[re.Pattern[bytes], dict[bytes, bytes]]:
    pattern = _pattern(forms, False).pattern.encode("utf-8")
    return re.compile(pattern), {text.encode(): mark.encode() for text, mark in forms}


def _where(text: str, anywhere: bool) -> str:
    if anywhere or len(text) >= LONG_SECRET:
        return re.escape(text)
    return rf"(?<![{_TOKEN_CHARS}]){re.escape(text)}(?![{_TOKEN_CHARS}])"


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
