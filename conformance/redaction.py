"""Redaction of secrets before anything is recorded, printed or written.

A :class:`Redactor` knows the secrets of one run (the bearer token, and any header the
user names) and replaces them with ``[REDACTED]`` in headers and bodies. Every exchange
passes through it when it is recorded, so no reporter ever sees a secret.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

MARK = "[REDACTED]"
#: Characters a token is made of. A short secret is replaced only where it stands alone,
#: not inside a longer word: a token ``t`` must not turn ``"turns"`` into garbage and
#: break the JSON the checks read.
_TOKEN_CHARS = r"A-Za-z0-9_-"
LONG_SECRET = 8
ALWAYS_SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


@dataclass(frozen=True, slots=True)
class Redactor:
    secrets: tuple[str, ...] = ()
    headers: frozenset[str] = ALWAYS_SECRET_HEADERS

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
        return value

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
