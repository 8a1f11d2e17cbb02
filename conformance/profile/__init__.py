"""Profiles: where a target keeps each role of the session protocol, and how it answers.

This package is the one owner of the profile mapping; every other module asks it:

- :mod:`~.model` — the plain data (:class:`Profile`, :class:`Route`, :class:`Place`,
  :class:`Source`, :class:`Envelope`, ... and :data:`CANONICAL`, the contract's own
  layout), with :mod:`~.ids` (session id formats);
- :mod:`~.loading` — built-in profiles and profile files, validated against
  ``specs/profile.schema.json`` (:mod:`~.building` for what a schema cannot say);
- :mod:`~.encoding` — the contract's requests put in a layout;
- :mod:`~.decoding` — answers read back into canonical views (:mod:`~.envelopes` for
  errors, :mod:`~.field_errors` for their pointers, :mod:`~.created` for created ids);
- :mod:`~.reading`, :mod:`~.writing`, :mod:`~.routing` — the other side, for traces
  and the mock: a layout's requests read back, the contract's answers written in it;
- :mod:`~.gaps` — what a layout lacks (:class:`NotInLayout`, missing roles and features).

The format is documented in ``docs/profiles.md``.
"""

from __future__ import annotations

from conformance.profile.building import ProfileError
from conformance.profile.created import created_at, created_id, created_ids
from conformance.profile.decoding import view_of
from conformance.profile.encoding import Outgoing, encode, outgoing
from conformance.profile.gaps import (
    AbsentField,
    NotInLayout,
    absent_reason,
    frame_absent_reason,
    lacking,
)
from conformance.profile.ids import ANY_ID, INVENTED_FORMS, IdFormat
from conformance.profile.loading import BUILTINS, builtin_names, load_profile, parse_profile
from conformance.profile.model import (
    BUILTIN_ENVELOPES,
    CANONICAL,
    CANONICAL_SOURCES,
    ENVELOPES,
    FEATURES,
    PLACES,
    READINESS,
    ROLES,
    SUCCESS_STATUS,
    VALUES,
    CodeRule,
    Envelope,
    FieldMap,
    Frames,
    MessageForm,
    Place,
    Profile,
    Route,
    Source,
    ValueMap,
    mapped,
)

__all__ = [
    "ANY_ID",
    "BUILTINS",
    "BUILTIN_ENVELOPES",
    "CANONICAL",
    "CANONICAL_SOURCES",
    "ENVELOPES",
    "FEATURES",
    "INVENTED_FORMS",
    "PLACES",
    "READINESS",
    "ROLES",
    "SUCCESS_STATUS",
    "VALUES",
    "AbsentField",
    "CodeRule",
    "Envelope",
    "FieldMap",
    "Frames",
    "IdFormat",
    "MessageForm",
    "NotInLayout",
    "Outgoing",
    "Place",
    "Profile",
    "ProfileError",
    "Route",
    "Source",
    "ValueMap",
    "absent_reason",
    "builtin_names",
    "created_at",
    "created_id",
    "created_ids",
    "encode",
    "frame_absent_reason",
    "lacking",
    "load_profile",
    "mapped",
    "outgoing",
    "parse_profile",
    "view_of",
]
