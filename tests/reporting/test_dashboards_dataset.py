"""A small, fixed DDI star schema for the dashboard tests, written straight into ``ddi``, with
every figure worked out by hand in the dashboard tests that use it.

The batch's day is Monday 15 June 2026; the period the tests mostly use is 1 January to
15 June 2026. Two departments, two journeys, three steps, two DNA themes, two applications,
eleven opportunities:

====  ======  =====  ====  ==================  ==========  =====================================
opp   dept    jrny   step  status now          submitted   notes
====  ======  =====  ====  ==================  ==========  =====================================
O1    Resp    Crime  S11   submitted           2026-06-10  waiting 3 working days, no score
O2    Resp    Crime  S12   submitted           2026-05-01  first response overdue; owner Casey
O3    Resp    Crime  S11   assessing           2026-04-01  triaged Good Fri; update overdue; Casey
O4    Cust    Cust.  S21   benefits_realised   2026-02-02  delivered 04-09 (3 wd in delivery)
O5    Resp    Crime  S12   delivered           2026-01-05  skipped assessing; 9 wd in delivery
O6    Cust    Cust.  S21   rejected            2026-03-02  answered late (14 wd); assessed first
O7    Resp    Crime  —     rejected            2026-03-09  rejected from triage
O8    Cust    Cust.  —     withdrawn           2026-03-16  withdrawn before an answer
O9    Resp    Crime  S11   backlog             2025-03-01  before the period; update overdue
O10   Cust    Cust.  S21   triage (restricted) 2026-06-01
O11   Resp    Crime  S11   benefits_realised   2025-12-01  delivered 05-20 in the period
====  ======  =====  ====  ==================  ==========  =====================================
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from reporting.models import (
    SCHEMA_VERSION,
    BridgeOpportunityApplication,
    BridgeOpportunityDnaTheme,
    DimApplication,
    DimDeliveryCycle,
    DimDepartment,
    DimDnaTheme,
    DimJourney,
    DimJourneyStep,
    DimPerson,
    DimRole,
    DimStatus,
    EtlBatch,
    FactBenefit,
    FactOpportunity,
    FactOpportunityStatusSpan,
    FactStatusChange,
    FactSupport,
)
from reporting.services import load
from reporting.services import transforms as T
from reporting.services.pseudonyms import person_key
from synergy_portal.models import Role
from tests.synergy_portal.factories import UserFactory

AS_OF = date(2026, 6, 15)
PERIOD = {"period": "custom", "from": "2026-01-01", "to": "2026-06-15"}
BATCH = uuid.UUID("00000000-0000-0000-0000-00000000da5b")
STATUS = dict(T.STATUS_KEYS.items())
RESPONSE, CUSTODY = 1, 2
CRIME, CUSTODY_JOURNEY = 1, 2
S11, S12, S21 = 11, 12, 21
DATA_FIRST, CI_STANDARD = 1, 2
RMS, CUSTODY_APP = 1, 2


def key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def at(day: date) -> datetime:
    """10:00 UTC on ``day``: the same UK day in winter and summer."""
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


@dataclass
class Dataset:
    people: dict[str, str] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    opportunities: dict[str, int] = field(default_factory=dict)


def _dimensions(batch: uuid.UUID) -> None:
    with connections["reporting"].cursor() as cursor:
        load.dim_date_ensure(
            cursor,
            first=date(2025, 1, 1),
            last=date(2026, 12, 31),
            batch=str(batch),
            tz=settings.TIME_ZONE,
        )
    DimStatus.objects.bulk_create(
        DimStatus(
            status_key=k,
            status_code=code,
            label=label,
            stage=stage,
            is_open=is_open,
            workflow_position=position,
            batch_id=batch,
        )
        for k, code, label, stage, is_open, position in T.status_rows()
    )
    DimDepartment.objects.bulk_create(
        [
            DimDepartment(RESPONSE, "response", "Response", True, batch),
            DimDepartment(CUSTODY, "custody", "Custody", True, batch),
        ]
    )
    DimRole.objects.bulk_create(
        [
            DimRole(1, "pc", "Constable", RESPONSE, 100, Decimal("30.00"), batch),
            DimRole(2, "dco", "Detention officer", CUSTODY, 50, Decimal("25.00"), batch),
            DimRole(3, "ci", "CI analyst", None, 10, Decimal("35.00"), batch),
        ]
    )
    DimJourney.objects.bulk_create(
        [
            DimJourney(CRIME, "crime", "Crime recording", RESPONSE, None, True, batch),
            DimJourney(CUSTODY_JOURNEY, "custody", "Custody booking", CUSTODY, None, True, batch),
        ]
    )
    DimJourneyStep.objects.bulk_create(
        [
            DimJourneyStep(S11, CRIME, 1, "Take report", 10, False, None, batch),
            DimJourneyStep(S12, CRIME, 2, "Create record", 10, False, None, batch),
            DimJourneyStep(S21, CUSTODY_JOURNEY, 1, "Book in", 10, False, None, batch),
        ]
    )
    DimDnaTheme.objects.bulk_create(
        [
            DimDnaTheme(DATA_FIRST, "data-first", "Data First", 1, batch),
            DimDnaTheme(CI_STANDARD, "ci-as-standard", "CI as Standard", 2, batch),
        ]
    )
    forever = (datetime(1900, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC))
    DimApplication.objects.bulk_create(
        [
            DimApplication(-RMS, RMS, "rms", "RMS", "", "saas", "live", 3, *forever, True, batch),
            DimApplication(
                -CUSTODY_APP,
                CUSTODY_APP,
                "custody",
                "Custody app",
                "",
                "saas",
                "live",
                4,
                *forever,
                True,
                batch,
            ),
        ]
    )


def _people(data: Dataset, batch: uuid.UUID) -> None:
    """Five people: two CI team members (named on the dashboards), three others."""
    casey = UserFactory(display_name="Casey CI", roles={Role.CI_TEAM})
    alex = UserFactory(display_name="Alex Assessor", roles={Role.CI_TEAM})
    data.users = {"casey": casey, "alex": alex}
    for name, user in data.users.items():
        data.people[name] = person_key(user_id=user.pk, tid=user.tid, oid=user.oid)
    for name in ("sub1", "sub2", "sup1", "sup2"):
        data.people[name] = f"{name:0>64}"
    departments = {"sub1": RESPONSE, "sup1": RESPONSE, "sub2": CUSTODY, "sup2": CUSTODY}
    DimPerson.objects.bulk_create(
        DimPerson(person, departments.get(name), None, batch)
        for name, person in data.people.items()
    )


# (name, id, reference, dept, journey, step, submitter, owner, status path [(code, day)],
#  score (impact, estimated £, hours, fits two-speed) or None, supporters, restricted)
_OPPORTUNITIES: list[tuple[Any, ...]] = [
    (
        "O1",
        1,
        "SO-2026-00001",
        RESPONSE,
        CRIME,
        S11,
        "sub1",
        None,
        [("submitted", date(2026, 6, 10))],
        None,
        2,
        False,
    ),
    (
        "O2",
        2,
        "SO-2026-00002",
        RESPONSE,
        CRIME,
        S12,
        "sub1",
        "casey",
        [("submitted", date(2026, 5, 1))],
        (1000, None, None, True),
        0,
        False,
    ),
    (
        "O3",
        3,
        "SO-2026-00003",
        RESPONSE,
        CRIME,
        S11,
        "sub2",
        "casey",
        [
            ("submitted", date(2026, 4, 1)),
            ("triage", date(2026, 4, 3)),
            ("assessing", date(2026, 4, 10)),
        ],
        (2000, None, None, True),
        2,
        False,
    ),
    (
        "O4",
        4,
        "SO-2026-00004",
        CUSTODY,
        CUSTODY_JOURNEY,
        S21,
        "sub2",
        "casey",
        [
            ("submitted", date(2026, 2, 2)),
            ("triage", date(2026, 2, 3)),
            ("assessing", date(2026, 2, 5)),
            ("backlog", date(2026, 2, 10)),
            ("in_delivery", date(2026, 4, 6)),
            ("delivered", date(2026, 4, 9)),
            ("benefits_realised", date(2026, 5, 1)),
        ],
        (12000, 10000, 400, True),
        3,
        False,
    ),
    (
        "O5",
        5,
        "SO-2026-00005",
        RESPONSE,
        CRIME,
        S12,
        "sub1",
        "casey",
        [
            ("submitted", date(2026, 1, 5)),
            ("triage", date(2026, 1, 6)),
            ("backlog", date(2026, 1, 12)),
            ("in_delivery", date(2026, 1, 19)),
            ("delivered", date(2026, 1, 30)),
        ],
        (6000, 5000, 200, True),
        0,
        False,
    ),
    (
        "O6",
        6,
        "SO-2026-00006",
        CUSTODY,
        CUSTODY_JOURNEY,
        S21,
        "sub2",
        None,
        [
            ("submitted", date(2026, 3, 2)),
            ("triage", date(2026, 3, 20)),
            ("assessing", date(2026, 3, 23)),
            ("rejected", date(2026, 3, 27)),
        ],
        None,
        0,
        False,
    ),
    (
        "O7",
        7,
        "SO-2026-00007",
        RESPONSE,
        CRIME,
        None,
        "sub1",
        None,
        [
            ("submitted", date(2026, 3, 9)),
            ("triage", date(2026, 3, 10)),
            ("rejected", date(2026, 3, 12)),
        ],
        None,
        0,
        False,
    ),
    (
        "O8",
        8,
        "SO-2026-00008",
        CUSTODY,
        CUSTODY_JOURNEY,
        None,
        "sub2",
        None,
        [("submitted", date(2026, 3, 16)), ("withdrawn", date(2026, 3, 17))],
        None,
        0,
        False,
    ),
    (
        "O9",
        9,
        "SO-2025-00009",
        RESPONSE,
        CRIME,
        S11,
        "sub1",
        None,
        [
            ("submitted", date(2025, 3, 1)),
            ("triage", date(2025, 3, 3)),
            ("backlog", date(2025, 3, 20)),
        ],
        (500, None, None, True),
        3,
        False,
    ),
    (
        "O10",
        10,
        "SO-2026-00010",
        CUSTODY,
        CUSTODY_JOURNEY,
        S21,
        "sub2",
        None,
        [("submitted", date(2026, 6, 1)), ("triage", date(2026, 6, 2))],
        (3000, None, None, True),
        1,
        True,
    ),
    (
        "O11",
        11,
        "SO-2025-00011",
        RESPONSE,
        CRIME,
        S11,
        "sub1",
        None,
        [
            ("submitted", date(2025, 12, 1)),
            ("triage", date(2025, 12, 2)),
            ("assessing", date(2025, 12, 3)),
            ("backlog", date(2025, 12, 10)),
            ("in_delivery", date(2026, 5, 11)),
            ("delivered", date(2026, 5, 20)),
            ("benefits_realised", date(2026, 6, 1)),
        ],
        (4500, 4000, 100, False),
        0,
        False,
    ),
]
# (opportunity, realised day, hours a year, £ a year)
_BENEFITS = [
    ("O4", date(2026, 5, 1), "300.0", "8000.00"),
    ("O11", date(2026, 6, 1), "150.0", "5000.00"),
]
_REASON = "Out of scope"
# Who moved each opportunity along (the first move into the backlog is the assessment).
_ACTORS = {"O11": "alex"}
# Delivery cycles (key, name, first day, last day): O4 is delivered on its cycle's last day,
# O5 eleven days after its cycle ended; O11 was never planned into one.
_CYCLES = {
    "O4": (14, "Cycle 14", date(2026, 4, 6), date(2026, 4, 9)),
    "O5": (9, "Cycle 9", date(2026, 1, 13), date(2026, 1, 19)),
}
_SUPPORTS = [
    ("O1", "sup1", date(2026, 6, 11)),
    ("O1", "sup2", date(2026, 6, 12)),
    ("O3", "sup1", date(2026, 4, 5)),
    ("O3", "sup2", date(2026, 4, 6)),
    ("O4", "sup1", date(2026, 2, 3)),
    ("O4", "sub2", date(2026, 2, 4)),
    ("O4", "casey", date(2026, 2, 5)),
    ("O9", "sup1", date(2025, 3, 5)),
    ("O9", "sup2", date(2025, 3, 6)),
    ("O9", "sub1", date(2025, 3, 7)),
    ("O10", "sup1", date(2026, 6, 3)),
]
_THEMES = {
    "O1": [DATA_FIRST],
    "O3": [CI_STANDARD],
    "O4": [DATA_FIRST, CI_STANDARD],
    "O5": [DATA_FIRST],
    "O11": [DATA_FIRST],
}
_APPS = {"O2": [RMS, CUSTODY_APP], "O3": [RMS], "O9": [CUSTODY_APP]}


def _facts(data: Dataset, batch: uuid.UUID) -> None:
    people = data.people
    facts, changes, daily = [], [], []
    change_id = 0
    for row in _OPPORTUNITIES:
        name, pk, reference, dept, journey, step, submitter, owner, path, score, sup, restr = row
        data.opportunities[name] = pk
        first = dict(reversed(path))
        status = path[-1][0]
        submitted = first["submitted"]

        def days(a: str, b: str, first: dict[str, date] = first) -> int | None:
            return (first[b] - first[a]).days if a in first and b in first else None

        impact, estimated, hours, fits = score or (None, None, None, None)
        benefits = [b for b in _BENEFITS if b[0] == name]
        facts.append(
            FactOpportunity(
                opportunity_id=pk,
                reference=reference,
                title=None if restr else f"Opportunity {name}",
                classification="official_sensitive" if restr else "official",
                is_restricted=restr,
                status_key=STATUS[status],
                department_key=dept,
                journey_key=journey,
                step_key=step,
                submitter_person_key=people[submitter],
                owner_person_key=people[owner] if owner else None,
                submitted_at=at(submitted),
                submitted_date_key=key(submitted),
                delivery_cycle_key=_CYCLES[name][0] if name in _CYCLES else None,
                triaged_date_key=key(first["triage"]) if "triage" in first else None,
                assessing_date_key=key(first["assessing"]) if "assessing" in first else None,
                in_delivery_date_key=(
                    key(first["in_delivery"]) if "in_delivery" in first else None
                ),
                backlog_date_key=key(first["backlog"]) if "backlog" in first else None,
                delivered_date_key=key(first["delivered"]) if "delivered" in first else None,
                benefits_date_key=(
                    key(first["benefits_realised"]) if "benefits_realised" in first else None
                ),
                closed_date_key=(key(path[-1][1]) if status in T.CLOSED_CODES else None),
                status_since_date_key=key(path[-1][1]),
                days_submitted_to_triage=days("submitted", "triage"),
                days_triage_to_backlog=days("triage", "backlog"),
                days_backlog_to_delivered=days("backlog", "delivered"),
                days_delivered_to_benefits=days("delivered", "benefits_realised"),
                days_submitted_to_delivered=days("submitted", "delivered"),
                people_affected=10,
                score_model_version=1 if score else None,
                hours_per_year=hours,
                cost_per_year=estimated,
                impact=impact,
                priority=impact,
                effort_days=(2.0 if fits else 8.0) if score else None,
                fits_two_speed=fits,
                supporters=sup,
                estimated_cash_per_year=Decimal(estimated) if estimated else None,
                realised_cash_per_year=(sum(Decimal(b[3]) for b in benefits) if benefits else None),
                realised_hours_per_year=(
                    sum(Decimal(b[2]) for b in benefits) if benefits else None
                ),
                benefits_recorded=len(benefits),
                batch_id=batch,
            )
        )
        previous: tuple[str, datetime] | None = None
        actor = people[_ACTORS.get(name, "casey")]
        for code, day in [("draft", submitted), *path]:
            change_id += 1
            moment = at(day) - timedelta(hours=1) if code == "draft" else at(day)
            changes.append(
                FactStatusChange(
                    status_change_id=change_id,
                    opportunity_id=pk,
                    from_status_key=STATUS[previous[0]] if previous else None,
                    to_status_key=STATUS[code],
                    changed_at=moment,
                    date_key=key(day),
                    actor_person_key=people[submitter]
                    if code in ("draft", "submitted", "withdrawn")
                    else actor,
                    days_in_previous_status=(
                        Decimal((moment - previous[1]).total_seconds() / 86400).quantize(
                            Decimal("0.01")
                        )
                        if previous
                        else None
                    ),
                    reason=_REASON if code == "rejected" else None,
                    batch_id=batch,
                )
            )
            previous = (code, moment)
        if status in ("submitted", "triage", "assessing", "backlog", "in_delivery"):
            daily.append(
                FactOpportunityStatusSpan(
                    opportunity_id=pk,
                    status_key=STATUS[status],
                    from_date_key=key(path[-1][1]),
                    to_date_key=None,
                    submitted_date_key=key(submitted),
                    batch_id=batch,
                )
            )
    DimDeliveryCycle.objects.bulk_create(
        DimDeliveryCycle(
            delivery_cycle_key=cycle_key,
            name=cycle_name,
            starts_date_key=key(first_day),
            ends_date_key=key(last_day),
            capacity_days=Decimal("8.0"),
            state="closed",
            batch_id=batch,
        )
        for cycle_key, cycle_name, first_day, last_day in _CYCLES.values()
    )
    FactOpportunity.objects.bulk_create(facts)
    FactStatusChange.objects.bulk_create(changes)
    FactOpportunityStatusSpan.objects.bulk_create(daily)
    FactBenefit.objects.bulk_create(
        FactBenefit(
            benefit_id=index,
            opportunity_id=data.opportunities[name],
            realised_date_key=key(day),
            recorded_date_key=key(day),
            hours_per_year=Decimal(hours),
            cash_per_year=Decimal(cash),
            recorded_by_person_key=people["casey"],
            batch_id=batch,
        )
        for index, (name, day, hours, cash) in enumerate(_BENEFITS, start=1)
    )
    FactSupport.objects.bulk_create(
        FactSupport(
            support_id=index,
            opportunity_id=data.opportunities[name],
            person_key=people[person],
            supported_at=at(day),
            date_key=key(day),
            batch_id=batch,
        )
        for index, (name, person, day) in enumerate(_SUPPORTS, start=1)
    )
    BridgeOpportunityDnaTheme.objects.bulk_create(
        BridgeOpportunityDnaTheme(
            opportunity_id=data.opportunities[name],
            dna_theme_key=theme,
            weight=(Decimal(1) / len(themes)).quantize(Decimal("0.000001")),
            batch_id=batch,
        )
        for name, themes in _THEMES.items()
        for theme in themes
    )
    BridgeOpportunityApplication.objects.bulk_create(
        BridgeOpportunityApplication(
            opportunity_id=data.opportunities[name],
            application_id=app,
            application_key=-app,
            weight=(Decimal(1) / len(apps)).quantize(Decimal("0.000001")),
            batch_id=batch,
        )
        for name, apps in _APPS.items()
        for app in apps
    )


def build_dataset(*, batch: uuid.UUID = BATCH) -> Dataset:
    """Write the dataset and a succeeded batch (finished 06:00 UTC on the batch's day)."""
    data = Dataset()
    _dimensions(batch)
    _people(data, batch)
    _facts(data, batch)
    EtlBatch.objects.create(
        batch_id=batch,
        kind=EtlBatch.Kind.FULL,
        state=EtlBatch.State.SUCCEEDED,
        as_of=AS_OF,
        schema_version=SCHEMA_VERSION,
        started_at=datetime(2026, 6, 15, 5, 59, tzinfo=UTC),
        finished_at=datetime(2026, 6, 15, 6, 0, tzinfo=UTC),
    )
    return data


# --- The dataset's own checks ------------------------------------------------------------------

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])


def test_dataset_loads_with_consistent_keys(settings: Any) -> None:
    settings.PSEUDONYM_KEY = "test-pseudonym-key"
    build_dataset()

    assert FactOpportunity.objects.count() == len(_OPPORTUNITIES)
    statuses = set(DimStatus.objects.values_list("status_key", flat=True))
    assert set(FactOpportunity.objects.values_list("status_key", flat=True)) <= statuses
    people = set(DimPerson.objects.values_list("person_key", flat=True))
    assert set(FactSupport.objects.values_list("person_key", flat=True)) <= people
    # Every opportunity's last status change is its current status.
    for opp in FactOpportunity.objects.all():
        last = FactStatusChange.objects.filter(opportunity_id=opp.pk).order_by("-changed_at")[0]
        assert last.to_status_key == opp.status_key
