"""Reference data about how work is done: departments, roles, applications, journeys, steps."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Deferrable, Q

from synergy_portal.audit import audited


@audited()
class Department(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@audited()
class Role(models.Model):
    """A job role, with how many people do it and what an hour of their time costs."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="roles"
    )
    headcount = models.PositiveIntegerField(validators=[MaxValueValidator(100_000)])
    hourly_cost = models.DecimalField(
        "loaded hourly cost (£)",
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(hourly_cost__gt=0), name="role_cost_positive"),
        ]

    def __str__(self) -> str:
        return self.name


@audited()
class DnaTheme(models.Model):
    """The seven Synergy DNA themes of the force technology strategy."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80, unique=True)
    hint = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


@audited()
class Application(models.Model):
    """An entry in the application portfolio (the technical-debt register)."""

    class Lifecycle(models.TextChoices):
        LIVE = "live", "Live"
        SUNSET = "sunset", "Sunset"
        DECOMMISSION_PLANNED = "decommission_planned", "Decommission planned"
        DECOMMISSIONED = "decommissioned", "Decommissioned"

    class Hosting(models.TextChoices):
        ON_PREMISES = "on_premises", "On-premises"
        IAAS = "iaas", "IaaS"
        PAAS = "paas", "PaaS"
        SAAS = "saas", "SaaS"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120, unique=True)
    vendor = models.CharField(max_length=120, blank=True, default="")
    description = models.TextField(blank=True, default="")
    lifecycle = models.CharField(max_length=24, choices=Lifecycle.choices, default=Lifecycle.LIVE)
    hosting = models.CharField(max_length=16, choices=Hosting.choices, default=Hosting.ON_PREMISES)
    debt_rating = models.PositiveSmallIntegerField(
        "technical-debt rating (1 low – 5 severe)",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    business_owner = models.CharField(max_length=120, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(debt_rating__gte=1, debt_rating__lte=5), name="app_debt_rating_1_5"
            ),
        ]

    def __str__(self) -> str:
        return self.name


@audited()
class Journey(models.Model):
    """A user journey: how a piece of work gets done, end to end."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_journeys",
    )
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="journeys"
    )
    roles = models.ManyToManyField(Role, through="JourneyRole", related_name="journeys")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@audited()
class JourneyRole(models.Model):
    """Which roles perform a journey, and how often each person does it."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="journey_roles")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="journey_roles")
    times_per_week = models.DecimalField(
        max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journey", "role"], name="journeyrole_unique"),
            models.CheckConstraint(condition=Q(times_per_week__gte=0), name="journeyrole_freq"),
        ]

    def __str__(self) -> str:
        return f"{self.role} on {self.journey}"


@audited()
class JourneyStep(models.Model):
    """An ordered step of a journey. Retired, never deleted, once opportunities point at it."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    typical_minutes = models.PositiveIntegerField(default=0)
    applications = models.ManyToManyField(Application, blank=True, related_name="steps")
    roles = models.ManyToManyField(Role, blank=True, related_name="steps")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["journey", "position"]
        constraints = [
            # Deferred so a reorder can swap positions inside one transaction.
            models.UniqueConstraint(
                fields=["journey", "position"],
                name="step_unique_position",
                deferrable=Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.journey}: {self.position}. {self.name}"
