"""What a layout lacks: the values a request cannot carry there, the fields an answer
does not have, the roles and features a clause needs that a profile does not declare.

:class:`NotInLayout` (and :class:`AbsentField`) are raised while a request is put in the
layout or an answer read back; :func:`lacking` says why a clause needs what the profile
has not; :func:`absent_reason` and :func:`frame_absent_reason` say why a view has no
field. Each reason names the profile, so a ``not_applicable`` verdict says which layout
lacked what.
"""

from __future__ import annotations

from collections.abc import Iterable

from conformance.pointers import covers, tokens
from conformance.profile.model import Profile
from conformance.records import View


class NotInLayout(Exception):
    """What a check asked for is not expressible in the profile's layout: a value a
    request cannot carry there (a null session id in a header), or a response field
    the layout does not have. An example that raises it is skipped; a clause that
    raises it is ``not_applicable``, with this reason."""


class AbsentField(NotInLayout):
    """A check read a response field the profile's layout does not have: nothing a later
    example could change, so the clause is ``not_applicable``."""


#: What a profile lacks when it does not declare a feature.
PROFILE_FEATURES = {
    "auth": "the layout has no bearer auth",
    "cors": "the layout has no CORS",
    "client_ids": "the layout does not accept client-chosen session ids",
    "location": "create answers name the session in no Location header",
    "users": "the layout has no users (users = false): sessions belong to no one and no user id is sent",
}


def lacking(profile: Profile, roles: Iterable[str], features: Iterable[str]) -> str | None:
    """Why ``profile`` cannot serve a clause that needs ``roles`` and ``features``: the
    first feature it does not declare, else the routes it has not (None: it has all)."""
    for feature in features:
        if feature not in profile.features:
            why = PROFILE_FEATURES.get(feature, feature)
            return f"profile {profile.name!r} declares no {feature} ({why})"
    absent = [role for role in roles if not profile.has(role)]
    if absent:
        return f"profile {profile.name!r} has no {', '.join(absent)} route"
    return None


def absent_reason(view: View, path: tuple[str, ...]) -> str | None:
    """Why the layout has no field at ``path`` (or above it), or None if it may have one."""
    return _reason(view.profile, view.absent, path)


def frame_absent_reason(view: View, path: tuple[str, ...]) -> str | None:
    """Why a stream frame's Event has no field at ``path`` in the layout, or None."""
    return _reason(view.profile, view.frame_absent, path)


def _reason(profile: str, absent: tuple[tuple[str, str], ...], path: tuple[str, ...]) -> str | None:
    for pattern, why in absent:
        parts = tokens(pattern)
        if len(path) >= len(parts) and covers(parts, path[: len(parts)]):
            return f"profile {profile!r}: the layout has no {pattern} ({why})"
    return None
