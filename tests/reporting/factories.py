"""A small force with opportunities in every interesting state, written directly (the
extract reads the tables, whichever service wrote them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connections
from django.utils import timezone

from journeys.models import Application, DnaTheme
from opportunities.models import (
    Benefit,
    DeliveryCycle,
    Opportunity,
    Score,
    ScoringModel,
    Status,
    StatusChange,
    Support,
)
from tests.journeys.factories import (
    ApplicationFactory,
    DepartmentFactory,
    JourneyStepFactory,
    RoleFactory,
)
from tests.opportunities.factories import OpportunityFactory
from tests.synergy_portal.factories import UserFactory

S = Status
TRICKY_TITLE = 'Café ☕ “smart quotes”, commas, and "straight" ones'
TRICKY_REASON = 'Line one,\nline two — “ü”\r\nand a "quoted" end'
# A cycle's outcome is free text that may name people: it must never reach the schema.
CYCLE_OUTCOME = "Delivered early thanks to Priya Constable's rota fix"


@dataclass
class Force:
    users: dict[str, Any] = field(default_factory=dict)
    apps: list[Application] = field(default_factory=list)
    themes: list[DnaTheme] = field(default_factory=list)
    opportunities: dict[str, Opportunity] = field(default_factory=dict)
    model: ScoringModel | None = None
    step: Any = None
    department: Any = None
    cycle: DeliveryCycle | None = None


def days_ago(days: float) -> datetime:
    return timezone.now() - timedelta(days=days)


def walk(
    opp: Opportunity,
    path: list[str],
    *,
    start_days_ago: float,
    actor: Any,
    gap: float = 3,
    reason: str = "",
) -> None:
    """Status-change rows along ``path`` (from creation), ``gap`` days apart."""
    previous = ""
    at = start_days_ago
    for status in ["draft", *path]:
        StatusChange.objects.create(
            opportunity=opp,
            from_status=previous,
            to_status=status,
            actor=actor,
            reason=reason if status == S.REJECTED else "",
            created_at=days_ago(at),
        )
        previous = status
        at -= gap
    if path:
        Opportunity.objects.filter(pk=opp.pk).update(
            status=path[-1], submitted_at=days_ago(start_days_ago - gap)
        )
        opp.refresh_from_db()


def score(
    force: Force, opp: Opportunity, *, priority: float = 1000.0, scored_by: Any = None
) -> Score:
    Score.objects.filter(opportunity=opp, is_current=True).update(is_current=False)
    result = Score.objects.create(
        opportunity=opp,
        model=force.model,
        inputs={"people": 10},
        breakdown=[],
        hours_per_year=123.5,
        cost_per_year=4012.345,
        impact=5000.0,
        priority=priority,
        effort_days=2.0,
        fits_two_speed=True,
        is_current=True,
        scored_by=scored_by,
    )
    Opportunity.objects.filter(pk=opp.pk).update(current_score=result, current_priority=priority)
    return result


def build_force() -> Force:
    force = Force()
    department = DepartmentFactory(code="response", name="Response Policing")
    role = RoleFactory(code="pc", name="Police Constable", department=department)
    force.department = department
    force.users["submitter"] = UserFactory(
        display_name="Priya Constable",
        email="priya.constable@police.example",
        department=department,
        job_role=role,
    )
    force.users["ci"] = UserFactory(display_name="Chris Improver", email="chris@police.example")
    force.users["local"] = UserFactory(
        display_name="Lou Local", email="lou@police.example", tid="", oid=""
    )
    force.apps = [ApplicationFactory(debt_rating=2), ApplicationFactory(debt_rating=4)]
    force.themes = [
        DnaTheme.objects.get_or_create(
            code=f"theme-{i}", defaults={"name": f"Theme {i}", "hint": "h", "position": i}
        )[0]
        for i in range(3)
    ]
    force.step = JourneyStepFactory()
    force.model = ScoringModel.objects.create(version=901, name="Test model", is_active=False)
    submitter, ci = force.users["submitter"], force.users["ci"]

    def opp(key: str, **kwargs: Any) -> Opportunity:
        kwargs.setdefault("department", department)
        kwargs.setdefault("journey", force.step.journey)
        kwargs.setdefault("step", force.step)
        force.opportunities[key] = OpportunityFactory(submitter=submitter, **kwargs)
        return force.opportunities[key]

    today = timezone.localdate()
    submitted = opp(
        "submitted",
        title=TRICKY_TITLE,
        first_response_due=today + timedelta(days=8),
        next_update_due=today + timedelta(days=55),
    )
    walk(submitted, [S.SUBMITTED], start_days_ago=6, actor=submitter)
    submitted.dna_themes.set(force.themes[:2])
    submitted.applications.set([force.apps[0]])
    Support.objects.create(opportunity=submitted, user=force.users["local"], created_at=days_ago(2))
    Support.objects.create(opportunity=submitted, user=ci, created_at=days_ago(1))

    backlog = opp("backlog")
    walk(backlog, [S.SUBMITTED, S.TRIAGE, S.ASSESSING, S.BACKLOG], start_days_ago=40, actor=ci)
    score(force, backlog, scored_by=ci)
    backlog.applications.set(force.apps)
    backlog.dna_themes.set(force.themes)

    force.cycle = DeliveryCycle.objects.create(
        name="Cycle 7",
        starts_on=today - timedelta(days=51),
        ends_on=today - timedelta(days=48),
        capacity_days=Decimal("12.5"),
        state=DeliveryCycle.State.CLOSED,
        outcome=CYCLE_OUTCOME,
    )
    delivered = opp("delivered", owner=ci, delivery_note="Done.", delivery_cycle=force.cycle)
    walk(
        delivered,
        [S.SUBMITTED, S.TRIAGE, S.BACKLOG, S.IN_DELIVERY, S.DELIVERED, S.BENEFITS_REALISED],
        start_days_ago=90,
        actor=ci,
        gap=10,
    )
    # Scored by an account with no Entra ID: keyed by its portal id, still pseudonymous.
    score(force, delivered, priority=2000, scored_by=force.users["local"])
    Benefit.objects.create(
        opportunity=delivered,
        hours_per_year=Decimal("100.5"),
        cash_per_year=Decimal("2500.00"),
        recorded_by=ci,
        realised_on=timezone.localdate() - timedelta(days=20),
        recorded_at=days_ago(20),
    )

    rejected = opp("rejected", rejection_reason="Out of scope")
    walk(
        rejected,
        [S.SUBMITTED, S.TRIAGE, S.REJECTED],
        start_days_ago=30,
        actor=ci,
        reason=TRICKY_REASON,
    )

    restricted = opp("restricted", is_restricted=True, title="Sensitive: covert unit rota")
    walk(restricted, [S.SUBMITTED], start_days_ago=3, actor=submitter)

    opp("draft", status=S.DRAFT, submitted_at=None)
    # Created directly in its status, with no history (as some tests and imports do).
    opp("no_history", submitted_at=days_ago(4))
    return force


def ddi_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every reporting table and view except etl_batch, without batch ids,
    sorted."""
    from reporting.models import VIEWS
    from reporting.services.tables import Table, reporting_tables

    rows = {}
    with connections["reporting"].cursor() as cursor:
        for table in [*reporting_tables(), *(Table(view) for view in VIEWS)]:
            cols = [c for c in table.column_names if c != "batch_id"]
            cursor.execute(
                f"SELECT {', '.join(cols)} FROM {table.name} ORDER BY {', '.join(table.primary_key)}"
            )
            rows[table.name] = cursor.fetchall()
    return rows


def settle(timeout: float = 120) -> None:
    """Wait until every transaction that started before now has ended, in the whole cluster.

    The extract's window ends at the oldest running transaction of the cluster, so another
    session's open transaction (another test run on the same server) would hold this test's
    changes back until the next batch: correct, but not what a test asserts on.
    """
    import time

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        mine = cursor.fetchone()[0]
        deadline = time.monotonic() + timeout
        while True:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] > mine:
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"Another session on this PostgreSQL server kept a transaction open for "
                    f"over {timeout:.0f} s; the extract's window cannot pass it."
                )
            time.sleep(0.02)


def run(**kwargs: Any) -> Any:
    """extract_run once the changes made so far are below any new snapshot's bound."""
    from reporting.services.extract import extract_run

    settle()
    return extract_run(**kwargs)
