"""Reference data of the demo force, idempotent by natural key: departments, roles,
applications, journeys and steps, the demo users and the pool of demo people, the scoring
model and the delivery cycles. None of it depends on the seed, so every seed shares it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model

from journeys.models import (
    Application,
    Department,
    DnaTheme,
    Journey,
    JourneyRole,
    JourneyStep,
    Role,
)
from opportunities.models import DeliveryCycle, ScoringModel
from opportunities.scoring import DEFAULT_PARAMETERS, DEFAULT_WEIGHTS
from synergy_portal.demo_seed import vocabulary as V
from synergy_portal.models import Role as PortalRole
from synergy_portal.models import User
from synergy_portal.services import demo_users_ensure, role_groups_ensure

M = TypeVar("M", bound=Model)

PEOPLE = 2000
PERSON_USERNAME = "demo.person.{:04d}"
# Pool people 1-6 are the rest of the CI team, 7-10 journey owners (fixed, whatever the seed).
CI_PEOPLE = range(1, 7)
OWNER_PEOPLE = range(7, 11)
CYCLE_WEEKS = 82  # every week of the ~18 months of demo history, plus the current one
SCORING_MODEL_NAME = "Journey impact (default)"


@dataclass(frozen=True)
class StepInfo:
    id: int
    name: str
    application_ids: tuple[int, ...]
    role_ids: tuple[int, ...]


@dataclass(frozen=True)
class JourneyInfo:
    id: int
    slug: str
    department_id: int
    risk: str
    things: tuple[str, ...]
    steps: tuple[StepInfo, ...]
    role_ids: tuple[int, ...]


@dataclass
class Force:
    """Ids and facts the opportunity generator needs, loaded once per run."""

    journeys: list[JourneyInfo]
    application_names: dict[int, str]
    application_ids: list[int]
    role_headcount: dict[int, int]
    theme_ids: list[int]
    # Everyone who can act in the demo (user ids): the demo users first, then the pool.
    people: list[int]
    department_of: dict[int, int | None]
    demo_user_ids: dict[str, int]
    journey_hourly_cost: dict[int, float]
    ci_ids: list[int]
    scoring_model_id: int
    cycles: dict[date, int] = field(default_factory=dict)  # Monday -> cycle id
    active_cycle_monday: date | None = None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _upsert(model: type[M], defaults: dict[str, Any] | None = None, **lookup: Any) -> M:
    """``update_or_create`` that writes only when something differs, so a re-run leaves no
    audit-history or DDI change-log rows for reference data nobody changed."""
    defaults = defaults or {}
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **defaults)
        row.full_clean(validate_unique=False)
        row.save()
        return row
    changed = [name for name, value in defaults.items() if getattr(row, name) != value]
    if changed:
        for name in changed:
            setattr(row, name, defaults[name])
        row.full_clean(validate_unique=False)
        row.save(update_fields=changed)
    return row


@transaction.atomic
def reference_data_ensure() -> dict[str, int]:
    """Departments, roles, applications, journeys, journey roles and steps. Idempotent."""
    departments = {
        code: _upsert(Department, code=code, defaults={"name": name})
        for code, name in V.DEPARTMENTS
    }
    roles = {
        spec.code: _upsert(
            Role,
            code=spec.code,
            defaults={
                "name": spec.name,
                "department": departments[spec.department],
                "headcount": spec.headcount,
                "hourly_cost": spec.hourly_cost,
            },
        )
        for spec in V.ROLES
    }
    applications = {
        spec.slug: _upsert(
            Application,
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "vendor": spec.vendor,
                "description": spec.description,
                "lifecycle": spec.lifecycle,
                "hosting": spec.hosting,
                "debt_rating": spec.debt_rating,
                "business_owner": spec.business_owner,
            },
        )
        for spec in V.APPLICATIONS
    }
    steps = 0
    for spec in V.JOURNEYS:
        journey = _upsert(
            Journey,
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "department": departments[spec.department],
            },
        )
        for code, per_week in spec.roles:
            _upsert(
                JourneyRole,
                journey=journey,
                role=roles[code],
                defaults={"times_per_week": Decimal(per_week)},
            )
        for position, step_spec in enumerate(spec.steps, start=1):
            step = _upsert(
                JourneyStep,
                journey=journey,
                position=position,
                defaults={"name": step_spec.name, "typical_minutes": step_spec.minutes},
            )
            step.applications.set([applications[slug] for slug in step_spec.applications])
            step.roles.set([roles[code] for code in step_spec.roles])
            steps += 1
    return {
        "departments": len(departments),
        "roles": len(roles),
        "applications": len(applications),
        "journeys": len(V.JOURNEYS),
        "steps": steps,
    }


def _pool_person(index: int, role_codes: list[str], weights: list[int]) -> tuple[str, str]:
    # One generator per person, fixed whatever the seed: the pool is shared by every seed.
    rng = random.Random(1_000_000 + index)
    name = f"{rng.choice(V.FIRST_NAMES)} {rng.choice(V.LAST_NAMES)}"
    if index in CI_PEOPLE:
        return name, "ci-analyst"
    return name, rng.choices(role_codes, weights)[0]


@transaction.atomic
def people_ensure(*, count: int = PEOPLE) -> dict[str, int]:
    """The five demo users (with a department and job role) and ``count`` demo people."""
    roles = {role.code: role for role in Role.objects.all()}
    users = demo_users_ensure()
    for user in users:
        role = roles[V.DEMO_USER_ROLES[user.username]]
        if (user.job_role_id, user.department_id) != (role.pk, role.department_id):
            User.objects.filter(pk=user.pk).update(job_role=role, department_id=role.department_id)

    role_codes = [spec.code for spec in V.ROLES if spec.code != "ci-analyst"]
    weights = [spec.headcount for spec in V.ROLES if spec.code != "ci-analyst"]
    people = []
    for index in range(1, count + 1):
        name, role_code = _pool_person(index, role_codes, weights)
        role = roles[role_code]
        username = PERSON_USERNAME.format(index)
        people.append(
            User(
                username=username,
                display_name=name,
                email=f"{username}@demo.synergy.invalid",
                password="!demo",  # unusable: demo people never sign in
                department_id=role.department_id,
                job_role=role,
                is_demo=True,
            )
        )
    before = User.objects.filter(username__startswith="demo.person.").count()
    User.objects.bulk_create(people, batch_size=2000, ignore_conflicts=True)

    groups = role_groups_ensure()
    members = dict(
        User.objects.filter(
            username__in=[PERSON_USERNAME.format(i) for i in [*CI_PEOPLE, *OWNER_PEOPLE]]
        ).values_list("username", "id")
    )
    through = User.groups.through
    links = [
        through(user_id=members[PERSON_USERNAME.format(i)], group_id=groups[PortalRole.CI_TEAM].pk)
        for i in CI_PEOPLE
    ] + [
        through(
            user_id=members[PERSON_USERNAME.format(i)],
            group_id=groups[PortalRole.JOURNEY_OWNER].pk,
        )
        for i in OWNER_PEOPLE
    ]
    through.objects.bulk_create(links, ignore_conflicts=True)

    # Journeys: the demo owner has some, pool journey owners the rest.
    owner_ids = [members[PERSON_USERNAME.format(i)] for i in OWNER_PEOPLE]
    demo_owner = next(user for user in users if user.username == "owner")
    pool_turn = 0
    for spec in V.JOURNEYS:
        if spec.owned_by_demo_owner:
            owner_id = demo_owner.pk
        else:
            owner_id = owner_ids[pool_turn % len(owner_ids)]
            pool_turn += 1
        Journey.objects.filter(slug=spec.slug, owner__isnull=True).update(owner_id=owner_id)
    created = User.objects.filter(username__startswith="demo.person.").count() - before
    return {"demo_users": len(users), "people_created": created}


@transaction.atomic
def scoring_model_ensure() -> ScoringModel:
    """Model v1 with the default weights; made active only if no model is active yet."""
    model, _ = ScoringModel.objects.get_or_create(
        version=1,
        defaults={
            "name": SCORING_MODEL_NAME,
            "weights": DEFAULT_WEIGHTS,
            "parameters": DEFAULT_PARAMETERS,
        },
    )
    if not ScoringModel.objects.filter(is_active=True).exists():
        ScoringModel.objects.filter(pk=model.pk).update(
            is_active=True, activated_at=model.created_at
        )
    return model


@transaction.atomic
def delivery_cycles_ensure(*, anchor: date) -> tuple[dict[date, int], date]:
    """A 2-Speed cycle (Monday to Thursday) for every week of the demo history.

    Weeks before the anchor's week are closed with an outcome, the anchor's week is active and
    the next one planned. Existing cycles are left as they are (the CI team may have moved on).
    """
    active = _monday(anchor - timedelta(days=1))
    rng = random.Random(f"cycles-{active.isoformat()}")
    app_names = [spec.name for spec in V.APPLICATIONS if spec.lifecycle == "live"]
    wanted: dict[str, DeliveryCycle] = {}
    for weeks_back in range(CYCLE_WEEKS, -2, -1):
        monday = active - timedelta(weeks=weeks_back)
        iso = monday.isocalendar()
        if weeks_back > 0:
            state = DeliveryCycle.State.CLOSED
            outcome = rng.choice(V.CYCLE_OUTCOMES).format(app=rng.choice(app_names))
        else:
            state = DeliveryCycle.State.ACTIVE if weeks_back == 0 else DeliveryCycle.State.PLANNED
            outcome = ""
        name = f"Cycle {iso.year}-W{iso.week:02d}"
        wanted[name] = DeliveryCycle(
            name=name,
            starts_on=monday,
            ends_on=monday + timedelta(days=3),
            capacity_days=Decimal(rng.choice(["8", "9", "10", "10", "11", "12"])),
            state=state,
            outcome=outcome,
        )
    DeliveryCycle.objects.bulk_create(list(wanted.values()), ignore_conflicts=True)
    rows = DeliveryCycle.objects.filter(name__in=list(wanted)).values_list("starts_on", "id")
    cycles = dict(rows)
    return cycles, active


def force_load(*, anchor: date) -> Force:
    """Everything the opportunity generator needs, in a handful of queries."""
    cycles, active = delivery_cycles_ensure(anchor=anchor)
    model = scoring_model_ensure()
    role_rows = list(Role.objects.values_list("id", "headcount"))
    steps_by_journey: dict[int, list[StepInfo]] = {}
    step_apps: dict[int, list[int]] = {}
    for step_id, app_id in JourneyStep.applications.through.objects.values_list(
        "journeystep_id", "application_id"
    ).order_by("journeystep_id", "application__slug"):
        step_apps.setdefault(step_id, []).append(app_id)
    step_roles: dict[int, list[int]] = {}
    for step_id, role_id in JourneyStep.roles.through.objects.values_list(
        "journeystep_id", "role_id"
    ).order_by("journeystep_id", "role__code"):
        step_roles.setdefault(step_id, []).append(role_id)
    for step in JourneyStep.objects.filter(retired_at__isnull=True).order_by("journey", "position"):
        steps_by_journey.setdefault(step.journey_id, []).append(
            StepInfo(
                id=step.pk,
                name=step.name,
                application_ids=tuple(step_apps.get(step.pk, ())),
                role_ids=tuple(step_roles.get(step.pk, ())),
            )
        )
    journey_roles: dict[int, list[int]] = {}
    for journey_id, role_id in JourneyRole.objects.values_list("journey_id", "role_id").order_by(
        "journey_id", "role__code"
    ):
        journey_roles.setdefault(journey_id, []).append(role_id)
    specs = {spec.slug: spec for spec in V.JOURNEYS}
    journeys = [
        JourneyInfo(
            id=journey.pk,
            slug=journey.slug,
            department_id=journey.department_id,
            risk=specs[journey.slug].risk,
            things=specs[journey.slug].things,
            steps=tuple(steps_by_journey.get(journey.pk, ())),
            role_ids=tuple(journey_roles.get(journey.pk, ())),
        )
        for journey in Journey.objects.filter(slug__in=list(specs)).order_by("slug")
        if steps_by_journey.get(journey.pk)
    ]
    app_rows = list(
        Application.objects.filter(slug__in=[spec.slug for spec in V.APPLICATIONS])
        .order_by("slug")
        .values_list("id", "name")
    )

    demo_users = dict(
        User.objects.filter(username__in=list(V.DEMO_USER_ROLES)).values_list("username", "id")
    )
    pool = list(
        User.objects.filter(username__startswith="demo.person.")
        .order_by("username")
        .values_list("id", "department_id")
    )
    demo_order = list(V.DEMO_USER_ROLES)
    department_of = dict(pool)
    department_of.update(
        User.objects.filter(pk__in=demo_users.values()).values_list("id", "department_id")
    )
    people = [demo_users[name] for name in demo_order] + [pk for pk, _ in pool]
    ci_ids = [demo_users["ci"]] + [people[len(demo_order) + i - 1] for i in CI_PEOPLE]
    # As the scoring service defaults it: the headcount-weighted cost of the journey's roles.
    weighted: dict[int, list[Decimal]] = {}
    for journey_id, cost, headcount in JourneyRole.objects.values_list(
        "journey_id", "role__hourly_cost", "role__headcount"
    ):
        totals = weighted.setdefault(journey_id, [Decimal(0), Decimal(0)])
        totals[0] += cost * headcount
        totals[1] += headcount
    journey_cost = {
        pk: round(float(cost / people_count), 2)
        for pk, (cost, people_count) in weighted.items()
        if people_count
    }
    return Force(
        journeys=journeys,
        application_names=dict(app_rows),
        application_ids=[pk for pk, _ in app_rows],
        role_headcount=dict(role_rows),
        theme_ids=list(DnaTheme.objects.order_by("position").values_list("id", flat=True)),
        people=people,
        department_of=department_of,
        demo_user_ids=demo_users,
        journey_hourly_cost=journey_cost,
        ci_ids=ci_ids,
        scoring_model_id=model.pk,
        cycles=cycles,
        active_cycle_monday=active,
    )
