"""The audit trail: database triggers (django-pghistory) record every insert, update and delete
of audited models, with the actor and request in the context, including bulk and raw-SQL
changes that signal-based libraries miss. Event tables are append-only (protected by
triggers: UPDATE and DELETE raise)."""

from __future__ import annotations

from typing import Any

import pghistory


def audited(*, exclude: list[str] | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    """Decorator for an audited model: a snapshot row on insert, update and delete."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        exclude=exclude,
        append_only=True,
        **kwargs,
    )
