"""The demo seed: every status, the workflow's guards, idempotence, determinism, top-ups."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Q

from journeys.models import (
    Application,
    Department,
    DnaTheme,
    Journey,
    JourneyRole,
    JourneyStep,
    Role,
)
from opportunities.models import (
    OPEN_STATUSES,
    Benefit,
    Classification,
    DeliveryCycle,
    Follow,
    Opportunity,
    ReferenceCounter,
    Score,
    ScoringModel,
    Status,
    StatusChange,
    Support,
)
from opportunities.scoring import ScoreInputs, score
from synergy_portal.demo_seed import demo_seed
from synergy_portal.models import User

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
PEOPLE = 300  # a smaller pool than the default 2,000 keeps the tests quick
SCORE_INPUTS = set(ScoreInputs.__dataclass_fields__)
SCORED = (Status.BACKLOG, Status.IN_DELIVERY, Status.DELIVERED, Status.BENEFITS_REALISED)


def seed(opportunities: int, seed: int = 42):  # type: ignore[no-untyped-def]
    return demo_seed(
        opportunities=opportunities, seed=seed, today=TODAY, people=PEOPLE, analyze=False
    )


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """One seed of 120 shared by the read-only tests of a class, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed(120)
        transaction.set_rollback(True)


class _Rollback(Exception):
    pass


def snapshot(*runs: tuple[int, int]) -> dict[str, tuple[str, str, str]]:
    """Seed ``(opportunities, seed)`` runs in turn in a savepoint, read every opportunity by
    reference, and roll everything back (reference counters included)."""
    result: dict[str, tuple[str, str, str]] = {}
    try:
        with transaction.atomic():
            for opportunities, seed_value in runs:
                seed(opportunities, seed_value)
            result = {
                ref: (title, status, created.isoformat())
                for ref, title, status, created in Opportunity.objects.values_list(
                    "reference", "title", "status", "created_at"
                )
            }
            raise _Rollback
    except _Rollback:
        pass
    return result


def test_dna_themes_migration_creates_the_seven_themes() -> None:
    themes = list(DnaTheme.objects.order_by("position").values_list("name", "hint"))
    assert [name for name, _ in themes] == [
        "Data First",
        "Unparalleled User Experience",
        "CI as Standard",
        "Eradicate Technical Debt",
        "Ubiquitous Connectivity",
        "Platform for Future",
        "Uplift our Capability",
    ]
    assert all(hint for _, hint in themes)


class TestSeeded:
    """Read-only checks of one seed of 120."""

    def test_seed_makes_a_believable_force(self, seeded) -> None:  # type: ignore[no-untyped-def]
        assert seeded.created == 120
        assert Department.objects.count() >= 12
        assert Role.objects.count() >= 25
        assert Application.objects.count() >= 40
        assert Journey.objects.count() >= 8
        assert not Journey.objects.annotate(n=Count("steps")).filter(Q(n__lt=5) | Q(n__gt=10))
        assert Journey.objects.filter(owner__username="owner").exists()
        assert not Journey.objects.filter(journey_roles__isnull=True).exists()
        assert (
            User.objects.filter(username__startswith="demo.person.", is_demo=True).count() == PEOPLE
        )
        assert not User.objects.filter(
            username__in=["staff", "ci", "owner", "manager", "admin"], job_role__isnull=True
        ).exists()
        assert ScoringModel.objects.get(is_active=True).version == 1
        assert DeliveryCycle.objects.filter(state=DeliveryCycle.State.ACTIVE).count() == 1
        assert DeliveryCycle.objects.filter(state=DeliveryCycle.State.PLANNED).count() == 1
        assert not DeliveryCycle.objects.filter(
            state=DeliveryCycle.State.CLOSED, outcome=""
        ).exists()

    def test_seed_covers_every_status_and_respects_the_workflow_guards(self, seeded) -> None:  # type: ignore[no-untyped-def]
        opps = Opportunity.objects.all()

        assert set(opps.values_list("status", flat=True)) == set(Status.values)
        assert opps.exclude(reference="").count() == 120
        # Backlog and later need a current score whose breakdown reproduces the priority.
        for opp in opps.filter(status__in=SCORED).select_related("current_score"):
            current = opp.current_score
            assert current is not None and current.is_current and current.kind == Score.Kind.AGREED
            assert current.opportunity_id == opp.pk
            assert opp.current_priority == current.priority
            product = math.prod(term["value"] for term in current.breakdown)
            assert math.isclose(product, current.priority, rel_tol=1e-9)
            given = {k: v for k, v in current.inputs.items() if k in SCORE_INPUTS}
            assert current.breakdown == score(ScoreInputs(**given)).breakdown()
        assert (
            not Score.objects.values("opportunity")
            .annotate(n=Count("id", filter=Q(is_current=True)))
            .filter(n__gt=1)
        )
        assert not opps.filter(status=Status.IN_DELIVERY).filter(
            Q(owner__isnull=True) | Q(delivery_cycle__isnull=True)
        )
        assert not opps.filter(
            status__in=[Status.DELIVERED, Status.BENEFITS_REALISED], delivery_note=""
        )
        assert not opps.filter(status=Status.BENEFITS_REALISED, benefits__isnull=True)
        assert Benefit.objects.count() == opps.filter(status=Status.BENEFITS_REALISED).count()
        assert not opps.filter(status=Status.REJECTED, rejection_reason="")
        duplicates = opps.filter(status=Status.DUPLICATE)
        assert not duplicates.filter(merged_into__isnull=True)
        assert not duplicates.filter(merged_into=F("id"))
        assert not duplicates.filter(merged_into__status__in=[Status.DUPLICATE, Status.DRAFT])
        assert not duplicates.filter(merged_into__submitted_at__gt=F("status_changed_at"))
        assert not opps.filter(
            classification=Classification.OFFICIAL_SENSITIVE, is_restricted=False
        )
        assert not opps.exclude(status=Status.DRAFT).filter(
            Q(submitted_at__isnull=True) | Q(first_response_due__isnull=True)
        )

    def test_supporters_count_is_the_real_count_and_supports_are_unique(self, seeded) -> None:  # type: ignore[no-untyped-def]
        assert not Opportunity.objects.annotate(n=Count("supports")).exclude(
            supporters_count=F("n")
        )
        assert not Support.objects.filter(user=F("opportunity__submitter"))
        assert Opportunity.objects.filter(supporters_count__gte=5).exists()
        assert Follow.objects.filter(user=F("opportunity__submitter")).exists()

    def test_status_history_follows_the_workflow(self, seeded) -> None:  # type: ignore[no-untyped-def]
        history: dict[int, list[StatusChange]] = defaultdict(list)
        for change in StatusChange.objects.order_by("created_at", "id"):
            history[change.opportunity_id].append(change)
        for opp in Opportunity.objects.all():
            changes = history[opp.pk]
            assert (changes[0].from_status, changes[0].to_status) == ("", Status.DRAFT)
            for before, after in zip(changes, changes[1:], strict=False):
                assert after.from_status == before.to_status
                assert after.created_at > before.created_at
            assert changes[-1].to_status == opp.status
            assert opp.status_changed_at == changes[-1].created_at
            assert opp.version == len(changes)

    def test_board_ranks_are_distinct_and_ordered_in_every_open_column(self, seeded) -> None:  # type: ignore[no-untyped-def]
        for status in OPEN_STATUSES:
            ranks = list(
                Opportunity.objects.filter(status=status).values_list("board_rank", flat=True)
            )
            assert len(ranks) == len(set(ranks))
            by_id = list(
                Opportunity.objects.filter(status=status)
                .order_by("id")
                .values_list("board_rank", flat=True)
            )
            assert by_id == sorted(by_id)


def test_running_twice_creates_no_duplicates() -> None:
    seed(120)
    models = [
        Department,
        Role,
        Application,
        Journey,
        JourneyStep,
        JourneyRole,
        DnaTheme,
        User,
        Opportunity,
        StatusChange,
        Support,
        Follow,
        Score,
        Benefit,
        DeliveryCycle,
        ScoringModel,
    ]
    before = {model.__name__: model.objects.count() for model in models}
    counters = list(ReferenceCounter.objects.values_list("year", "last"))

    summary = seed(120)

    assert summary.created == 0
    assert {model.__name__: model.objects.count() for model in models} == before
    assert list(ReferenceCounter.objects.values_list("year", "last")) == counters


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not() -> None:
    first = snapshot((60, 42))
    again = snapshot((60, 42))
    other = snapshot((60, 7))

    assert len(first) == 60
    assert first == again
    assert first != other


def test_topping_up_gives_what_one_run_would_have() -> None:
    assert snapshot((60, 42), (120, 42)) == snapshot((120, 42))


def test_the_command_prints_a_summary() -> None:
    from io import StringIO

    out = StringIO()
    call_command(
        "seed_demo", "--opportunities", "15", "--seed", "3", "--today", "2026-06-15", stdout=out
    )
    assert "15 demo opportunities" in out.getvalue()
    assert Opportunity.objects.count() == 15
