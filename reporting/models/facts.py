"""Facts and bridges of the DDI star schema. Only opportunities that have left draft appear.

Keys to dimensions are plain columns, not foreign keys: a warehouse loads dimensions and
facts in one transaction and checks them in tests, and DDI copies the tables elsewhere.
"""

from __future__ import annotations

from django.db import models

from reporting.models.dimensions import batch_field


def _person(help_text: str, note: str = "") -> models.CharField:
    note = f"; {note}" if note else ""
    return models.CharField(max_length=64, null=True, help_text=f"{help_text} (dim_person){note}.")


def _date_key(help_text: str) -> models.IntegerField:
    return models.IntegerField(null=True, help_text=f"{help_text} (dim_date); empty if not yet.")


def _days(help_text: str) -> models.IntegerField:
    return models.IntegerField(null=True, help_text=f"Days {help_text}; empty until both happen.")


class FactOpportunity(models.Model):
    """Accumulating snapshot: one row per opportunity that has left draft, updated as it
    reaches each milestone. Dates are UK local days."""

    opportunity_id = models.BigIntegerField(
        primary_key=True, help_text="Degenerate key: the portal's opportunity id."
    )
    reference = models.CharField(max_length=16, unique=True, help_text="e.g. SO-2026-00042.")
    title = models.CharField(
        max_length=120, null=True, help_text="Title; empty for restricted opportunities."
    )
    classification = models.CharField(max_length=20, help_text="official or official_sensitive.")
    is_restricted = models.BooleanField(help_text="Seen only by the CI team in the portal.")
    status_key = models.SmallIntegerField(help_text="Current status (dim_status).")
    department_key = models.BigIntegerField(null=True, help_text="Department (dim_department).")
    journey_key = models.BigIntegerField(null=True, help_text="User journey (dim_journey).")
    step_key = models.BigIntegerField(null=True, help_text="Journey step (dim_journey_step).")
    delivery_cycle_key = models.BigIntegerField(
        null=True,
        help_text="Delivery cycle it is planned into (dim_delivery_cycle); empty if none.",
    )
    submitter_person_key = _person("Who raised it")
    owner_person_key = _person("CI team owner")
    scorer_person_key = _person(
        "Who made its current score", "empty if unscored or re-scored by a new model"
    )
    merged_into_reference = models.CharField(
        max_length=16, null=True, help_text="Reference of the opportunity it was merged into."
    )
    submitted_at = models.DateTimeField(help_text="When it was submitted.")
    submitted_date_key = models.IntegerField(help_text="Day it was submitted (dim_date).")
    triaged_date_key = _date_key("First day in triage")
    assessing_date_key = _date_key("First day being assessed")
    backlog_date_key = _date_key("First day in the backlog")
    in_delivery_date_key = _date_key("First day in delivery")
    delivered_date_key = _date_key("Day it was delivered")
    benefits_date_key = _date_key("Day its benefits were realised")
    closed_date_key = _date_key("Day it was rejected, merged or withdrawn (latest)")
    status_since_date_key = _date_key(
        "Day of its latest status change: it has been in its current status since then"
    )
    first_response_due_date_key = models.IntegerField(
        null=True,
        help_text="Day the submitter is due a first response by (dim_date), set on "
        "submission; empty if none was set.",
    )
    next_update_due_date_key = models.IntegerField(
        null=True,
        help_text="Day the submitter is next due an update by (dim_date); empty when no "
        "update is owed (closed, or benefits realised).",
    )
    days_submitted_to_triage = _days("from submission to triage")
    days_triage_to_backlog = _days("from triage to the backlog")
    days_backlog_to_delivered = _days("from the backlog to delivery")
    days_delivered_to_benefits = _days("from delivery to benefits realised")
    days_submitted_to_delivered = _days("from submission to delivery")
    people_affected = models.IntegerField(null=True, help_text="People affected (N).")
    score_model_version = models.IntegerField(
        null=True, help_text="Scoring model version of the current score; empty if unscored."
    )
    hours_per_year = models.FloatField(null=True, help_text="Current score: hours lost a year.")
    cost_per_year = models.FloatField(
        null=True, help_text="Current score: cost of the hours lost a year (£)."
    )
    impact = models.FloatField(null=True, help_text="Current score: yearly impact (£).")
    priority = models.FloatField(
        null=True, help_text="Current score: £ of yearly impact per delivery day."
    )
    effort_days = models.FloatField(null=True, help_text="Current score: effort (delivery days).")
    fits_two_speed = models.BooleanField(
        null=True, help_text="Current score: fits a 2-Speed cycle (effort ≤ 4 days)."
    )
    supporters = models.IntegerField(help_text="People who support it (“me too”).")
    estimated_cash_per_year = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        help_text="Estimated £ a year: the current score's cost per year.",
    )
    realised_cash_per_year = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        help_text="Realised £ a year: sum of its recorded benefits; empty if none.",
    )
    realised_hours_per_year = models.DecimalField(
        max_digits=12,
        decimal_places=1,
        null=True,
        help_text="Realised hours a year: sum of its recorded benefits; empty if none.",
    )
    benefits_recorded = models.IntegerField(help_text="Number of benefit records.")
    batch_id = batch_field()

    class Meta:
        db_table = "fact_opportunity"
        indexes = [models.Index(fields=["batch_id"], name="fact_opportunity_batch_idx")]

    def __str__(self) -> str:
        return self.reference


class FactOpportunityStatusSpan(models.Model):
    """Timespan fact (Kimball's "time-stamped" snapshot): one row per unbroken run of days an
    opportunity was in one open status (submitted to in delivery) at the end of each day. It
    holds the periodic snapshot in compact form: the opportunity is in the snapshot of every
    day from `from_date_key` to `to_date_key`, inclusive (see the `fact_opportunity_daily`
    view). Rows are few (about one per status change) and never grow with the passing days."""

    pk = models.CompositePrimaryKey("opportunity_id", "from_date_key")
    opportunity_id = models.BigIntegerField(help_text="The opportunity (fact_opportunity).")
    status_key = models.SmallIntegerField(help_text="The open status it was in (dim_status).")
    from_date_key = models.IntegerField(
        help_text="First day at whose end it was in this status (dim_date)."
    )
    to_date_key = models.IntegerField(
        null=True,
        help_text="Last day at whose end it was in this status (dim_date); empty while it "
        "still is: the span then runs to the batch's as_of.",
    )
    submitted_date_key = models.IntegerField(
        help_text="Day it was submitted (dim_date): its age on a day counts from here."
    )
    batch_id = batch_field()

    class Meta:
        db_table = "fact_opportunity_status_span"
        indexes = [
            models.Index(fields=["from_date_key", "to_date_key"], name="fact_span_dates_idx")
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}@{self.from_date_key}-{self.to_date_key or ''}"


class FactOpportunityDaily(models.Model):
    """Periodic snapshot, as a view over fact_opportunity_status_span: one row per opportunity
    per day on which it was open (submitted to in delivery) at the end of the day, up to the
    last batch's as_of. Not a file of its own: expand the span file with dim_date."""

    pk = models.CompositePrimaryKey("opportunity_id", "date_key")
    opportunity_id = models.BigIntegerField(help_text="The opportunity (fact_opportunity).")
    date_key = models.IntegerField(help_text="The day (dim_date).")
    status_key = models.SmallIntegerField(help_text="Status at the end of the day (dim_status).")
    age_days = models.IntegerField(help_text="Days since submission.")
    days_in_status = models.IntegerField(help_text="Days since it entered that status.")
    batch_id = batch_field()

    class Meta:
        managed = False
        db_table = "fact_opportunity_daily"

    def __str__(self) -> str:
        return f"{self.opportunity_id}@{self.date_key}"


class FactStatusChange(models.Model):
    """Transaction fact: one row per status change of an opportunity that has left draft."""

    status_change_id = models.BigIntegerField(
        primary_key=True, help_text="Degenerate key: the portal's status-change id."
    )
    opportunity_id = models.BigIntegerField(
        db_index=True, help_text="The opportunity (fact_opportunity)."
    )
    from_status_key = models.SmallIntegerField(
        null=True, help_text="Status before (dim_status); empty for creation."
    )
    to_status_key = models.SmallIntegerField(help_text="Status after (dim_status).")
    changed_at = models.DateTimeField(help_text="When it changed.")
    date_key = models.IntegerField(help_text="Day it changed (dim_date).")
    actor_person_key = _person("Who changed it")
    days_in_previous_status = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        help_text="Days spent in the previous status; empty for the first change.",
    )
    reason = models.TextField(
        null=True, help_text="Reason given (e.g. for a rejection); empty if restricted."
    )
    batch_id = batch_field()

    class Meta:
        db_table = "fact_status_change"
        indexes = [models.Index(fields=["batch_id"], name="fact_status_change_batch_idx")]

    def __str__(self) -> str:
        return str(self.status_change_id)


class FactSupport(models.Model):
    """Transaction fact: one row per “me too” on an opportunity."""

    support_id = models.BigIntegerField(
        primary_key=True, help_text="Degenerate key: the portal's support id."
    )
    opportunity_id = models.BigIntegerField(
        db_index=True, help_text="The opportunity (fact_opportunity)."
    )
    person_key = _person("Who supports it")
    supported_at = models.DateTimeField(help_text="When.")
    date_key = models.IntegerField(help_text="Day (dim_date).")
    batch_id = batch_field()

    class Meta:
        db_table = "fact_support"
        indexes = [models.Index(fields=["batch_id"], name="fact_support_batch_idx")]

    def __str__(self) -> str:
        return str(self.support_id)


class FactBenefit(models.Model):
    """Transaction fact: one row per realised benefit recorded after delivery."""

    benefit_id = models.BigIntegerField(
        primary_key=True, help_text="Degenerate key: the portal's benefit id."
    )
    opportunity_id = models.BigIntegerField(
        db_index=True, help_text="The opportunity (fact_opportunity)."
    )
    realised_date_key = models.IntegerField(help_text="Day the benefit was realised (dim_date).")
    recorded_date_key = models.IntegerField(help_text="Day it was recorded (dim_date).")
    hours_per_year = models.DecimalField(
        max_digits=10, decimal_places=1, help_text="Hours saved a year."
    )
    cash_per_year = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="£ saved a year."
    )
    recorded_by_person_key = _person("Who recorded it")
    batch_id = batch_field()

    class Meta:
        db_table = "fact_benefit"
        indexes = [models.Index(fields=["batch_id"], name="fact_benefit_batch_idx")]

    def __str__(self) -> str:
        return str(self.benefit_id)


class BridgeOpportunityDnaTheme(models.Model):
    """Bridge: the DNA themes an opportunity touches, weighted to sum to 1 per opportunity."""

    pk = models.CompositePrimaryKey("opportunity_id", "dna_theme_key")
    opportunity_id = models.BigIntegerField(help_text="The opportunity (fact_opportunity).")
    dna_theme_key = models.BigIntegerField(help_text="The theme (dim_dna_theme).")
    weight = models.DecimalField(
        max_digits=7, decimal_places=6, help_text="1 / number of themes of the opportunity."
    )
    batch_id = batch_field()

    class Meta:
        db_table = "bridge_opportunity_dna_theme"
        indexes = [models.Index(fields=["batch_id"], name="bridge_dna_batch_idx")]

    def __str__(self) -> str:
        return f"{self.opportunity_id}-{self.dna_theme_key}"


class BridgeOpportunityApplication(models.Model):
    """Bridge: the applications an opportunity involves, weighted to sum to 1 per opportunity,
    pointing at the application's version when the opportunity was submitted."""

    pk = models.CompositePrimaryKey("opportunity_id", "application_id")
    opportunity_id = models.BigIntegerField(help_text="The opportunity (fact_opportunity).")
    application_id = models.BigIntegerField(
        help_text="Durable key of the application (dim_application.application_id)."
    )
    application_key = models.BigIntegerField(
        help_text="Version of the application when the opportunity was submitted "
        "(dim_application); join on application_id and is_current for today's version."
    )
    weight = models.DecimalField(
        max_digits=7,
        decimal_places=6,
        help_text="1 / number of applications of the opportunity.",
    )
    batch_id = batch_field()

    class Meta:
        db_table = "bridge_opportunity_application"
        indexes = [models.Index(fields=["batch_id"], name="bridge_app_batch_idx")]

    def __str__(self) -> str:
        return f"{self.opportunity_id}-{self.application_id}"
