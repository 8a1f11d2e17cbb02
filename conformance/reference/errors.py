"""Error codes, and the exception a request step raises to answer with an error.

A step of the request pipeline (body decoding, sentinel check, validation, lookup, ...)
raises :class:`Rejection`; the app turns it into the JSON envelope
``{ok: false, error, message, details?}`` through ``ReferenceApp.error_response``.
"""

from __future__ import annotations

from collections.abc import Mapping

from conformance.reference.models import JSONObject

VALIDATION_ERROR = "VALIDATION_ERROR"
MALFORMED_JSON = "MALFORMED_JSON"
SESSION_ID_MISSING = "SESSION_ID_MISSING"
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
SESSION_NOT_READY = "SESSION_NOT_READY"
SESSION_EXISTS = "SESSION_EXISTS"
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNAUTHORIZED = "UNAUTHORIZED"
INTERNAL_ERROR = "INTERNAL_ERROR"


class Rejection(Exception):
    """Answer this request with an error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: JSONObject | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = dict(headers or {})
