"""The audit trail of one opportunity, read from the pghistory events, for the CI team."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opportunities.models import Opportunity
from synergy_portal.models import User

# Bookkeeping columns that change with every write and say nothing to a reader.
QUIET_FIELDS = {"updated_at", "version", "status_changed_at", "board_rank", "current_score"}
MAX_EVENTS = 100
SYSTEM_ACTOR = "System or background job"


@dataclass(frozen=True)
class AuditChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    actor: str
    url: str
    changes: list[AuditChange]


def opportunity_audit_history(*, opportunity: Opportunity) -> list[AuditEntry]:
    """Every recorded insert/update/delete of the opportunity, newest first, with who did it
    and each field's before and after (two queries whatever the length)."""
    events = list(
        Opportunity.pgh_event_model.objects.filter(pgh_obj_id=opportunity.pk)
        .select_related("pgh_context")
        .order_by("pgh_created_at", "pgh_id")
    )
    fields = [
        f.attname
        for f in Opportunity.pgh_event_model._meta.concrete_fields
        if not f.name.startswith("pgh_") and f.attname not in QUIET_FIELDS and f.name != "id"
    ]
    actor_ids = {
        (e.pgh_context.metadata or {}).get("user") for e in events if e.pgh_context is not None
    } - {None}
    names = {u.pk: u.get_full_name() for u in User.objects.filter(pk__in=actor_ids)}
    labels = {
        f.attname: str(f.verbose_name)
        for f in Opportunity._meta.concrete_fields
        if f.attname in fields
    }
    entries: list[AuditEntry] = []
    previous = None
    for event in events:
        changes = (
            [
                AuditChange(labels.get(name, name), getattr(previous, name), getattr(event, name))
                for name in fields
                if getattr(previous, name) != getattr(event, name)
            ]
            if previous is not None
            else []
        )
        metadata = (event.pgh_context.metadata or {}) if event.pgh_context else {}
        actor_id = metadata.get("user")
        actor = names.get(actor_id, SYSTEM_ACTOR) if actor_id else SYSTEM_ACTOR
        if event.pgh_label != "update" or changes:
            entries.append(
                AuditEntry(
                    at=event.pgh_created_at,
                    action={"insert": "Created", "update": "Changed", "delete": "Deleted"}.get(
                        event.pgh_label, event.pgh_label
                    ),
                    actor=actor,
                    url=str(metadata.get("url", "")),
                    changes=changes,
                )
            )
        previous = event
    entries.reverse()
    return entries[:MAX_EVENTS]
