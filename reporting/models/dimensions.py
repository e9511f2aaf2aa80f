"""Dimensions of the DDI star schema.

Surrogate keys are deterministic, so a full rebuild and a chain of incremental batches give
the same keys: the portal's own id for type 1 dimensions, the audit-trail event that opened
the version for the type 2 ``dim_application``, and an HMAC for people.
"""

from __future__ import annotations

from django.db import models

BATCH_HELP = "Batch that last wrote this row (etl_batch.batch_id)."


def batch_field() -> models.UUIDField:
    return models.UUIDField(help_text=BATCH_HELP)


class DimDate(models.Model):
    """One row per calendar day, with the UK financial year (April to March)."""

    date_key = models.IntegerField(primary_key=True, help_text="The day as yyyymmdd.")
    date = models.DateField(unique=True, help_text="The day.")
    day_of_week = models.SmallIntegerField(help_text="ISO day of the week: 1 Monday to 7 Sunday.")
    day_name = models.CharField(max_length=9, help_text="Monday to Sunday.")
    day_of_month = models.SmallIntegerField(help_text="1 to 31.")
    month = models.SmallIntegerField(help_text="Calendar month, 1 to 12.")
    month_name = models.CharField(max_length=9, help_text="January to December.")
    calendar_quarter = models.SmallIntegerField(help_text="Calendar quarter, 1 to 4.")
    calendar_year = models.SmallIntegerField(help_text="Calendar year.")
    iso_year = models.SmallIntegerField(help_text="ISO 8601 week-numbering year.")
    iso_week = models.SmallIntegerField(help_text="ISO 8601 week number, 1 to 53.")
    week_start_date = models.DateField(help_text="The Monday of the day's week.")
    fiscal_year = models.CharField(
        max_length=7, help_text="UK financial year (1 April to 31 March), e.g. 2026/27."
    )
    fiscal_year_start = models.SmallIntegerField(
        help_text="Calendar year in which the financial year starts, e.g. 2026 for 2026/27."
    )
    fiscal_quarter = models.SmallIntegerField(
        help_text="Quarter of the financial year: 1 April–June, 2 July–September, "
        "3 October–December, 4 January–March."
    )
    fiscal_month = models.SmallIntegerField(
        help_text="Month of the financial year: 1 April to 12 March."
    )
    is_weekend = models.BooleanField(help_text="Saturday or Sunday.")
    batch_id = batch_field()

    class Meta:
        db_table = "dim_date"

    def __str__(self) -> str:
        return str(self.date_key)


class DimDepartment(models.Model):
    """A department of the force (type 1: changes overwrite)."""

    department_key = models.BigIntegerField(
        primary_key=True, help_text="Surrogate key (the portal's department id)."
    )
    department_code = models.CharField(max_length=40, unique=True, help_text="Natural key.")
    name = models.CharField(max_length=120, help_text="Department name.")
    is_active = models.BooleanField(help_text="Still in use for new opportunities.")
    batch_id = batch_field()

    class Meta:
        db_table = "dim_department"

    def __str__(self) -> str:
        return self.name


class DimRole(models.Model):
    """A job role, with its headcount and loaded hourly cost (type 1)."""

    role_key = models.BigIntegerField(
        primary_key=True, help_text="Surrogate key (the portal's role id)."
    )
    role_code = models.CharField(max_length=60, unique=True, help_text="Natural key.")
    name = models.CharField(max_length=120, help_text="Role name.")
    department_key = models.BigIntegerField(
        null=True, help_text="The role's department (dim_department); empty if force-wide."
    )
    headcount = models.IntegerField(help_text="How many people do this role.")
    hourly_cost = models.DecimalField(
        max_digits=7, decimal_places=2, help_text="Loaded cost of an hour of this role (£)."
    )
    batch_id = batch_field()

    class Meta:
        db_table = "dim_role"

    def __str__(self) -> str:
        return self.name


class DimApplication(models.Model):
    """An application of the portfolio, type 2 on lifecycle and technical-debt rating: a new
    version each time either changes (from the portal's audit trail); other attributes are
    type 1 (the latest value on every version)."""

    application_key = models.BigIntegerField(
        primary_key=True,
        help_text="Surrogate key of the version (the audit event that opened it; negative "
        "for an application with no audit history).",
    )
    application_id = models.BigIntegerField(
        help_text="Durable key: the same for every version of the application."
    )
    slug = models.CharField(max_length=80, help_text="Natural key.")
    name = models.CharField(max_length=120, help_text="Application name.")
    vendor = models.CharField(max_length=120, help_text="Supplier; empty if built in-house.")
    hosting = models.CharField(max_length=16, help_text="on_premises, iaas, paas or saas.")
    lifecycle = models.CharField(
        max_length=24,
        help_text="live, sunset, decommission_planned or decommissioned (type 2).",
    )
    debt_rating = models.SmallIntegerField(
        help_text="Technical-debt rating, 1 low to 5 severe (type 2)."
    )
    valid_from = models.DateTimeField(
        help_text="Start of the version (inclusive); 1900-01-01 for the first version."
    )
    valid_to = models.DateTimeField(
        help_text="End of the version (exclusive); 9999-12-31 for the current version."
    )
    is_current = models.BooleanField(help_text="The application's current version.")
    batch_id = batch_field()

    class Meta:
        db_table = "dim_application"
        constraints = [
            models.UniqueConstraint(
                fields=["application_id", "valid_from"], name="dim_application_version"
            ),
            models.UniqueConstraint(
                fields=["application_id"],
                condition=models.Q(is_current=True),
                name="dim_application_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} from {self.valid_from:%Y-%m-%d}"


class DimJourney(models.Model):
    """A user journey (type 1)."""

    journey_key = models.BigIntegerField(
        primary_key=True, help_text="Surrogate key (the portal's journey id)."
    )
    slug = models.CharField(max_length=80, unique=True, help_text="Natural key.")
    name = models.CharField(max_length=120, help_text="Journey name.")
    department_key = models.BigIntegerField(
        null=True, help_text="The journey's department (dim_department)."
    )
    owner_person_key = models.CharField(
        max_length=64, null=True, help_text="The journey owner (dim_person)."
    )
    is_active = models.BooleanField(help_text="Still in use.")
    batch_id = batch_field()

    class Meta:
        db_table = "dim_journey"

    def __str__(self) -> str:
        return self.name


class DimJourneyStep(models.Model):
    """An ordered step of a user journey (type 1)."""

    step_key = models.BigIntegerField(
        primary_key=True, help_text="Surrogate key (the portal's step id)."
    )
    journey_key = models.BigIntegerField(help_text="The step's journey (dim_journey).")
    position = models.IntegerField(help_text="Order of the step in its journey, from 1.")
    name = models.CharField(max_length=120, help_text="Step name.")
    typical_minutes = models.IntegerField(help_text="Typical minutes the step takes.")
    is_retired = models.BooleanField(help_text="No longer part of the journey.")
    retired_date_key = models.IntegerField(null=True, help_text="Day it was retired (dim_date).")
    batch_id = batch_field()

    class Meta:
        db_table = "dim_journey_step"

    def __str__(self) -> str:
        return self.name


class DimStatus(models.Model):
    """A status of the opportunity workflow."""

    status_key = models.SmallIntegerField(primary_key=True, help_text="Surrogate key.")
    status_code = models.CharField(max_length=20, unique=True, help_text="Natural key.")
    label = models.CharField(max_length=40, help_text="Name shown in the portal.")
    stage = models.CharField(
        max_length=10, help_text="draft, open (being worked on), done (delivered) or closed."
    )
    is_open = models.BooleanField(
        help_text="Counts as work in progress (submitted to in delivery)."
    )
    workflow_position = models.SmallIntegerField(
        null=True, help_text="Order along the main workflow, from 0 (draft); empty if closed."
    )
    batch_id = batch_field()

    class Meta:
        db_table = "dim_status"

    def __str__(self) -> str:
        return self.status_code


class DimDeliveryCycle(models.Model):
    """A 2-Speed delivery cycle, which opportunities are planned into (type 1). Its outcome
    notes are free text that may name people, so they are not exported."""

    delivery_cycle_key = models.BigIntegerField(
        primary_key=True, help_text="Surrogate key (the portal's delivery cycle id)."
    )
    name = models.CharField(max_length=80, unique=True, help_text="Cycle name (natural key).")
    starts_date_key = models.IntegerField(help_text="First day of the cycle (dim_date).")
    ends_date_key = models.IntegerField(help_text="Last day of the cycle (dim_date).")
    capacity_days = models.DecimalField(
        max_digits=6, decimal_places=1, help_text="Capacity of the cycle, in delivery days."
    )
    state = models.CharField(max_length=10, help_text="planned, active or closed.")
    batch_id = batch_field()

    class Meta:
        db_table = "dim_delivery_cycle"

    def __str__(self) -> str:
        return self.name


class DimDnaTheme(models.Model):
    """A Synergy DNA theme of the force technology strategy."""

    dna_theme_key = models.BigIntegerField(
        primary_key=True, help_text="Surrogate key (the portal's theme id)."
    )
    code = models.CharField(max_length=40, unique=True, help_text="Natural key.")
    name = models.CharField(max_length=80, help_text="Theme name.")
    position = models.IntegerField(help_text="Display order.")
    batch_id = batch_field()

    class Meta:
        db_table = "dim_dna_theme"

    def __str__(self) -> str:
        return self.name


class DimPerson(models.Model):
    """A person, pseudonymised: no name, e-mail or portal id, only department and role."""

    person_key = models.CharField(
        max_length=64,
        primary_key=True,
        help_text="HMAC-SHA256 (hex) of the person's Entra ID tenant and object id (or portal "
        "id if they have none) under a secret key: stable across batches, not reversible.",
    )
    department_key = models.BigIntegerField(
        null=True, help_text="The person's department (dim_department)."
    )
    role_key = models.BigIntegerField(null=True, help_text="The person's job role (dim_role).")
    batch_id = batch_field()

    class Meta:
        db_table = "dim_person"

    def __str__(self) -> str:
        return self.person_key[:12]
