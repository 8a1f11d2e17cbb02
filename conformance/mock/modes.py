"""The mock's adversarial modes and the plan that holds them.

Every mode is something a real backend does and a client must survive:

- ``slow``: provisioning takes long (3 s unless ``provision_seconds`` says otherwise),
  so a client sees ``Starting``, then ``Provisioning`` with the percent climbing and the
  ETA falling over many polls, before ``Ready``.
- ``create-5xx``: the first create the mock receives answers 500 ``INTERNAL_ERROR`` and
  creates nothing; the next create works.
- ``status-503``: the first status poll of every session answers 503 with
  ``Retry-After`` (``retry_after_seconds``, 1 s by default).
- ``fail``: every session ends ``Failed`` (``error.code`` ``PROVISIONING_FAILED``) half
  way through its provisioning, instead of becoming ``Ready``.

Modes combine. With none the mock is the strict reference and nothing more. Apart from
the modes, ``latency_seconds`` delays every answer (a backend far away, or busy).
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("slow", "create-5xx", "status-503", "fail")
DEFAULT_PROVISION_SECONDS = 0.5
SLOW_PROVISION_SECONDS = 3.0
#: In ``fail`` mode a session fails at this share of its provisioning time.
FAIL_SHARE = 0.5
FAILURE_CODE = "PROVISIONING_FAILED"


class ModeError(ValueError):
    """A mode name or setting the mock does not know."""


def parse_modes(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Modes from repeated or comma-separated names, in the documented order."""
    named = {name.strip().lower() for value in values for name in value.split(",") if name.strip()}
    unknown = sorted(named - set(MODES))
    if unknown:
        raise ModeError(f"unknown mode(s) {', '.join(unknown)}; the modes are {', '.join(MODES)}")
    return tuple(mode for mode in MODES if mode in named)


@dataclass(frozen=True, slots=True)
class MockPlan:
    """What the mock does beyond the reference: its modes and their settings.

    ``provision_seconds`` None means: 0.5 s, or 3 s in ``slow`` mode.
    """

    modes: tuple[str, ...] = ()
    provision_seconds: float | None = None
    retry_after_seconds: int = 1
    latency_seconds: float = 0.0
    token: str | None = None
    cors_origin: str | None = None

    def __post_init__(self) -> None:
        parse_modes(self.modes)
        if self.provision_seconds is not None and not self.provision_seconds >= 0:
            raise ModeError(f"provision_seconds must be >= 0, not {self.provision_seconds}")
        if self.retry_after_seconds < 1:
            raise ModeError(
                f"retry_after_seconds must be a whole number >= 1 (HTTP Retry-After counts "
                f"whole seconds), not {self.retry_after_seconds}"
            )
        if not 0 <= self.latency_seconds <= 60:
            raise ModeError(f"latency_seconds must be 0..60, not {self.latency_seconds}")
        if "fail" in self.modes and self.provisioning == 0:
            raise ModeError("mode fail needs provisioning time (provision_seconds > 0)")

    def has(self, mode: str) -> bool:
        return mode in self.modes

    @property
    def provisioning(self) -> float:
        if self.provision_seconds is not None:
            return self.provision_seconds
        return SLOW_PROVISION_SECONDS if self.has("slow") else DEFAULT_PROVISION_SECONDS

    @property
    def fail_after_seconds(self) -> float | None:
        return self.provisioning * FAIL_SHARE if self.has("fail") else None

    def settings(self) -> tuple[tuple[str, str | float | bool | None], ...]:
        """The settings a trace header records."""
        return (
            ("provision_seconds", self.provisioning),
            ("retry_after_seconds", self.retry_after_seconds),
            ("fail_after_seconds", self.fail_after_seconds),
            ("latency_seconds", self.latency_seconds),
            ("auth", self.token is not None),
            ("cors_origin", self.cors_origin),
        )
