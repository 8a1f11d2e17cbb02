"""cors clauses (to be written)."""

from __future__ import annotations
