"""The upstream: the real backend the proxy forwards to, parsed once from its URL."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.redaction import public_url, userinfo_of


@dataclass(frozen=True, slots=True)
class Upstream:
    """The backend the proxy forwards to."""

    url: str
    scheme: bytes
    host: bytes
    port: int
    base_path: bytes
    #: ``Authorization`` value made of the URL's ``user:password`` (None: none).
    basic: bytes | None

    @classmethod
    def parse(cls, url: str) -> Upstream:
        """``ValueError`` with a readable reason when ``url`` is not an http(s) URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--upstream {public_url(url)!r} is not an http:// or https:// URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise ValueError(f"--upstream {public_url(url)!r} has no valid port") from None
        userinfo = userinfo_of(url)
        basic = None if userinfo is None else f"Basic {userinfo.basic}".encode("ascii")
        return cls(
            url=url,
            scheme=parts.scheme.encode("ascii"),
            host=parts.hostname.encode("idna"),
            port=port,
            base_path=parts.path.rstrip("/").encode("latin-1"),
            basic=basic,
        )

    @property
    def host_header(self) -> bytes:
        default = 443 if self.scheme == b"https" else 80
        host = b"[" + self.host + b"]" if b":" in self.host else self.host
        return host if self.port == default else host + b":%d" % self.port

    @property
    def public(self) -> str:
        """The URL as every output shows it (its credentials as a variable)."""
        return public_url(self.url)
