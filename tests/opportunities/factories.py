from __future__ import annotations

import factory
from django.utils import timezone

from opportunities.models import Comment, Opportunity, Status
from opportunities.services.references import reference_allocate
from tests.synergy_portal.factories import UserFactory


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    reference = factory.LazyFunction(lambda: reference_allocate(year=timezone.now().year)[0])
    title = factory.Sequence(lambda n: f"Evidence upload times out {n}")
    problem = "Uploading body-worn video from the car keeps timing out, so I queue at the station."
    better = "Upload over 4G from the car, resuming where it stopped."
    status = Status.SUBMITTED
    submitter = factory.SubFactory(UserFactory)
    submitted_at = factory.LazyFunction(timezone.now)
    people_affected = 200
    frequency_per_week = 3
    minutes_per_occurrence = 10


class DraftFactory(OpportunityFactory):
    """A draft: no submission time yet."""

    status = Status.DRAFT
    submitted_at = None


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    opportunity = factory.SubFactory(OpportunityFactory)
    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"Comment {n}: same here on nights.")
