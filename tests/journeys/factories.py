from __future__ import annotations

from decimal import Decimal

import factory

from journeys.models import Application, Department, Journey, JourneyRole, JourneyStep, Role


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"Department {n}")


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    code = factory.Sequence(lambda n: f"role-{n}")
    name = factory.Sequence(lambda n: f"Role {n}")
    department = factory.SubFactory(DepartmentFactory)
    headcount = 300
    hourly_cost = Decimal("32.50")


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    slug = factory.Sequence(lambda n: f"app-{n}")
    name = factory.Sequence(lambda n: f"Application {n}")


class JourneyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Journey

    slug = factory.Sequence(lambda n: f"journey-{n}")
    name = factory.Sequence(lambda n: f"Journey {n}")


class JourneyStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JourneyStep

    journey = factory.SubFactory(JourneyFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Step {n}")


class JourneyRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JourneyRole

    journey = factory.SubFactory(JourneyFactory)
    role = factory.SubFactory(RoleFactory)
    times_per_week = Decimal("2")
