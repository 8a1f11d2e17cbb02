"""A target's own OpenAPI document, read within bounds: from a URL, from a path on the
target itself, or from a file.

``compare-openapi`` reads one to compare it with a profile (:mod:`conformance.vendor_spec`);
a profile's ``openapi`` key names one whose request schemas the target-schema clauses
generate bodies from (:mod:`conformance.target_schema`). Whatever the source, at most
``max_bytes`` are read and a fetch takes at most ``timeout`` seconds (a path on the target
goes through :meth:`Target.send`, so it is bounded, redacted and recorded like every other
request). Anything that keeps the document from being used is one
:class:`DocumentError` with a one-line reason; its ``given`` says whether the user's
own file was at fault (bad input) or the document the target serves.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from conformance.target import Target, TargetError

#: The most bytes of a document read, when the caller gives no other bound.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
URL, ON_TARGET, FILE = "url", "target", "file"


class DocumentError(Exception):
    """The document cannot be used (one line). ``given``: the user's own file is at
    fault (a usage error), not what a target serves."""

    def __init__(self, message: str, *, given: bool) -> None:
        super().__init__(message)
        self.given = given


@dataclass(frozen=True, slots=True)
class DocumentSource:
    """Where a document is: an absolute ``url``, a path on the ``target`` (joined to its
    base URL), or a ``file``."""

    kind: str
    where: str

    @classmethod
    def parse(cls, text: str) -> DocumentSource:
        """A source as a loaded profile keeps it: ``http(s)://...`` a URL, ``/...`` a path
        on the target, ``file:PATH`` (or any other text) a file."""
        if text.startswith(("http://", "https://")):
            return cls(URL, text)
        if text.startswith("/"):
            return cls(ON_TARGET, text)
        return cls(FILE, text.removeprefix("file:"))

    def text(self) -> str:
        """The source as :meth:`parse` reads it back (a file as ``file:PATH``)."""
        return f"file:{self.where}" if self.kind == FILE else self.where

    def describe(self) -> str:
        return {ON_TARGET: f"{self.where} on the target", FILE: f"file {self.where}"}.get(
            self.kind, self.where
        )


def read_document(
    document: DocumentSource,
    *,
    timeout: float,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    target: Target | None = None,
) -> dict[str, Any]:
    """The document at ``document``, parsed (JSON or YAML), with a ``paths`` object."""
    shown = document.describe()
    if document.kind == FILE:
        raw = _file(Path(document.where), max_bytes, shown)
    elif document.kind == ON_TARGET:
        if target is None:
            raise DocumentError(f"{shown}: no target to fetch it from", given=True)
        raw = _on_target(target, document.where, shown)
    else:
        raw = _url(document.where, timeout, max_bytes, shown)
    given = document.kind == FILE
    if len(raw) > max_bytes:
        raise DocumentError(f"{shown} is over {max_bytes} bytes", given=given)
    try:
        text = raw.decode("utf-8")
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        why = " ".join(str(exc).split())[:200]
        raise DocumentError(f"{shown} is not JSON or YAML: {why}", given=given) from exc
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise DocumentError(f"{shown} is not an OpenAPI document (no paths)", given=given)
    return data


def _file(path: Path, max_bytes: int, shown: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(f"cannot read {shown}: {exc.strerror or exc}", given=True) from exc


def _on_target(target: Target, path: str, shown: str) -> bytes:
    try:
        exchange = target.send("GET", path)
    except TargetError as exc:
        raise DocumentError(f"cannot fetch {shown}: {exc}", given=False) from exc
    if exchange.status != 200 or exchange.response is None:
        raise DocumentError(
            f"{shown} answered {exchange.status}, not an OpenAPI document", given=False
        )
    return exchange.response.body


def _url(url: str, timeout: float, max_bytes: int, shown: str) -> bytes:
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
            if response.status_code != 200:
                raise DocumentError(
                    f"{shown} answered {response.status_code}, not an OpenAPI document",
                    given=False,
                )
            chunks: list[bytes] = []
            size, ends = 0, time.monotonic() + timeout
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    break
                if time.monotonic() > ends:
                    raise DocumentError(f"{shown} took over {timeout:g}s", given=False)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise DocumentError(f"cannot fetch {shown}: {exc}", given=False) from exc
