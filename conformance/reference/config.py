"""The reference's settings: one frozen record, checked when it is made."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 86_400


@dataclass(frozen=True, slots=True)
class ReferenceConfig:
    """What a reference deployment declares.

    ``provision_seconds``: how long a new session takes to reach ``Ready`` (0: at once).
    ``token``: the bearer token every route requires (None: no auth).
    ``cors_origin``: the one origin CORS answers for (None: no CORS headers at all).
    ``id_factory``: mints server-chosen session ids (None: ``uuid4().hex``).
    ``max_body_bytes``: the largest accepted request body; one byte more is 413.
    ``default_ttl_seconds``: a session's lifetime when create names no ``ttl_seconds``.
    """

    provision_seconds: float = 0.5
    token: str | None = None
    cors_origin: str | None = None
    id_factory: Callable[[], str] | None = None
    max_body_bytes: int = 1_048_576
    default_ttl_seconds: int = 3600

    def __post_init__(self) -> None:
        if not self.provision_seconds >= 0:
            raise ValueError(
                f"provision_seconds must be a number >= 0, got {self.provision_seconds!r}"
            )
        if self.token is not None and not self.token:
            raise ValueError("token must be a non-empty string, or None to turn auth off")
        if self.cors_origin is not None and (not self.cors_origin or self.cors_origin == "*"):
            raise ValueError(
                f"cors_origin must name one origin such as 'https://app.example', "
                f"got {self.cors_origin!r}"
            )
        if self.max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, got {self.max_body_bytes}")
        if self.default_ttl_seconds <= 0:
            raise ValueError(f"default_ttl_seconds must be > 0, got {self.default_ttl_seconds}")
