"""Opportunities, their workflow history, engagement, scores, delivery and benefits."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from synergy_portal.audit import audited

USER = settings.AUTH_USER_MODEL


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    TRIAGE = "triage", "In triage"
    ASSESSING = "assessing", "Being assessed"
    BACKLOG = "backlog", "In the backlog"
    IN_DELIVERY = "in_delivery", "In delivery"
    DELIVERED = "delivered", "Delivered"
    BENEFITS_REALISED = "benefits_realised", "Benefits realised"
    REJECTED = "rejected", "Not taken forward"
    DUPLICATE = "duplicate", "Merged as a duplicate"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.TRIAGE,
    Status.ASSESSING,
    Status.BACKLOG,
    Status.IN_DELIVERY,
)
CLOSED_STATUSES = (Status.REJECTED, Status.DUPLICATE, Status.WITHDRAWN)


class Classification(models.TextChoices):
    OFFICIAL = "official", "OFFICIAL"
    OFFICIAL_SENSITIVE = "official_sensitive", "OFFICIAL-SENSITIVE"


class ReferenceCounter(models.Model):
    """Per-year counter behind references like SO-2026-00042 (allocated with one UPDATE)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


@audited()
class DeliveryCycle(models.Model):
    """A 2-Speed delivery cycle: four working days with a capacity in delivery days."""

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=80, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    capacity_days = models.DecimalField(
        max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0"))]
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PLANNED)
    outcome = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="cycle_dates"),
            models.CheckConstraint(condition=Q(capacity_days__gte=0), name="cycle_capacity"),
        ]

    def __str__(self) -> str:
        return self.name


@audited(exclude=["search_vector"])
class Opportunity(models.Model):
    reference = models.CharField(max_length=16, unique=True, editable=False)
    title = models.CharField(max_length=120)
    problem = models.TextField("what gets in the way", max_length=5000)
    better = models.TextField("what would be better", max_length=5000, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    journey = models.ForeignKey(
        "journeys.Journey",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    step = models.ForeignKey(
        "journeys.JourneyStep",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    applications = models.ManyToManyField(
        "journeys.Application", blank=True, related_name="opportunities"
    )
    department = models.ForeignKey(
        "journeys.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    dna_themes = models.ManyToManyField(
        "journeys.DnaTheme", blank=True, related_name="opportunities"
    )
    people_affected = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    frequency_per_week = models.DecimalField(
        "occurrences per person per week",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("500"))],
    )
    minutes_per_occurrence = models.DecimalField(
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("960"))],
    )
    classification = models.CharField(
        max_length=20, choices=Classification.choices, default=Classification.OFFICIAL
    )
    is_restricted = models.BooleanField(default=False)
    show_submitter_name = models.BooleanField(default=True)
    submitter = models.ForeignKey(
        USER, on_delete=models.PROTECT, related_name="submitted_opportunities"
    )
    owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_opportunities"
    )
    delivery_cycle = models.ForeignKey(
        DeliveryCycle,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="opportunities",
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    current_score = models.ForeignKey(
        "Score", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_priority = models.FloatField(null=True, blank=True, editable=False)
    supporters_count = models.PositiveIntegerField(default=0, editable=False)
    rejection_reason = models.TextField(blank=True, default="")
    delivery_note = models.TextField(blank=True, default="")
    board_rank = models.CharField(max_length=64, db_collation="C", default="n", editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_changed_at = models.DateTimeField(default=timezone.now, editable=False)
    first_response_due = models.DateField(null=True, blank=True)
    next_update_due = models.DateField(null=True, blank=True)
    # The submission form's token: autosaves, "save draft" and a double-clicked "submit" from
    # one form all land on one row (unique per submitter), never on two.
    form_token = models.UUIDField(null=True, blank=True, editable=False)
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="english")
        + SearchVector("problem", weight="B", config="english")
        + SearchVector("better", weight="C", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        verbose_name_plural = "opportunities"
        ordering = ["-created_at"]
        indexes = [
            GinIndex(fields=["search_vector"], name="opp_search_idx"),
            GinIndex(fields=["title"], name="opp_title_trgm_idx", opclasses=["gin_trgm_ops"]),
            models.Index(fields=["status", "board_rank"], name="opp_board_idx"),
            # The board sorted by priority: each column's top cards, unscored ones last.
            models.Index(
                "status",
                F("current_priority").desc(nulls_last=True),
                "id",
                name="opp_board_priority_idx",
            ),
            # The board's "my cards" filter: a column's cards of one owner, in board order.
            models.Index(fields=["owner", "status", "board_rank"], name="opp_board_owner_idx"),
            models.Index(fields=["-created_at"], name="opp_created_idx"),
            models.Index(fields=["journey", "step"], name="opp_journey_step_idx"),
            # Browse sorts (newest, most supported, highest priority) stay index scans at 100k.
            # They carry the columns of the visibility filter, so a page of ids (even a deep
            # one) is read from the index alone; the count uses the narrow visibility index.
            models.Index(
                F("submitted_at").desc(nulls_last=True),
                F("id").desc(),
                name="opp_browse_newest_idx",
                include=["status", "is_restricted", "submitter"],
            ),
            models.Index(
                F("supporters_count").desc(),
                F("submitted_at").desc(nulls_last=True),
                F("id").desc(),
                name="opp_browse_supported_idx",
                include=["status", "is_restricted", "submitter"],
            ),
            models.Index(
                F("current_priority").desc(nulls_last=True),
                F("submitted_at").desc(nulls_last=True),
                F("id").desc(),
                name="opp_browse_priority_idx",
                include=["status", "is_restricted", "submitter"],
            ),
            models.Index(
                fields=["status", "is_restricted", "submitter"], name="opp_visibility_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=Status.REJECTED) | ~Q(rejection_reason=""),
                name="opp_rejected_needs_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.DUPLICATE) | Q(merged_into__isnull=False),
                name="opp_duplicate_needs_target",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")), name="opp_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(status=Status.DRAFT) | Q(submitted_at__isnull=False),
                name="opp_submitted_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(classification=Classification.OFFICIAL_SENSITIVE)
                | Q(is_restricted=True),
                name="opp_sensitive_is_restricted",
            ),
            models.CheckConstraint(
                condition=Q(step__isnull=True) | Q(journey__isnull=False),
                name="opp_step_needs_journey",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.DELIVERED, Status.BENEFITS_REALISED])
                | ~Q(delivery_note=""),
                name="opp_delivered_needs_note",
            ),
            models.UniqueConstraint(
                fields=["submitter", "form_token"],
                condition=Q(form_token__isnull=False),
                name="opp_form_token_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class StatusChange(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True, default="")
    to_status = models.CharField(max_length=20, choices=Status.choices)
    actor = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["opportunity", "created_at"], name="statuschange_opp_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_status=F("to_status")), name="statuschange_moves"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_status or '∅'} → {self.to_status}"


@audited()
class Support(models.Model):
    """A "me too": one per person per opportunity."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="supports")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "user"], name="support_once_per_person")
        ]
        indexes = [models.Index(fields=["user", "created_at"], name="support_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} supports {self.opportunity_id}"


class Follow(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="follows")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["opportunity", "user"], name="follow_once")]
        indexes = [models.Index(fields=["user", "created_at"], name="follow_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.opportunity_id}"


@audited()
class Comment(models.Model):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="comments")
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["opportunity", "created_at"], name="comment_opp_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="comment_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.opportunity_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Random, unguessable names; files are only ever served through a permission-checked view.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


@audited()
class Attachment(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name


@audited()
class ScoringModel(models.Model):
    """A versioned set of weights and parameters for the journey-impact score."""

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120)
    weights = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_scoring_model"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"


@audited()
class Score(models.Model):
    """One scoring of an opportunity: inputs, model version and the breakdown of every term."""

    class Kind(models.TextChoices):
        ASSESSMENT = "assessment", "Individual assessment"
        AGREED = "agreed", "Agreed score"
        RESCORE = "rescore", "Re-scored by a new model"

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="scores")
    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="scores")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.AGREED)
    inputs = models.JSONField()
    breakdown = models.JSONField()
    hours_per_year = models.FloatField()
    cost_per_year = models.FloatField()
    impact = models.FloatField()
    priority = models.FloatField()
    effort_days = models.FloatField()
    fits_two_speed = models.BooleanField()
    is_current = models.BooleanField(default=False)
    scored_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # A re-score names the run that made it and the score whose inputs it re-used.
    rescore_run = models.ForeignKey(
        "RescoreRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="scores"
    )
    rescored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["opportunity", "-created_at"], name="score_opp_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity"], condition=Q(is_current=True), name="one_current_score"
            ),
            models.CheckConstraint(condition=Q(priority__gte=0), name="score_priority_nonneg"),
            models.CheckConstraint(condition=Q(effort_days__gt=0), name="score_effort_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} v{self.model_id}: {self.priority:.0f}"


@audited()
class Benefit(models.Model):
    """A realised benefit recorded after delivery."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="benefits")
    hours_per_year = models.DecimalField(
        max_digits=10, decimal_places=1, validators=[MinValueValidator(Decimal("0"))]
    )
    cash_per_year = models.DecimalField(
        "£ per year", max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    non_cash = models.TextField("non-cash benefits", blank=True, default="")
    evidence = models.TextField(blank=True, default="")
    realised_on = models.DateField(default=timezone.localdate)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-realised_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours_per_year__gte=0, cash_per_year__gte=0), name="benefit_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"Benefit {self.pk} on {self.opportunity_id}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        COMMENT = "comment", "New comment"
        MERGE = "merge", "Merged"
        SUBMITTED = "submitted", "Submitted"

    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    message = models.CharField(max_length=300)
    source_key = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # The e-mail digest sweep looks for notifications not yet e-mailed or read.
            models.Index(
                fields=["created_at"],
                condition=Q(emailed_at__isnull=True, read_at__isnull=True),
                name="notification_email_due_idx",
            ),
        ]
        constraints = [
            # The outbox row that caused a notification is its idempotency key.
            models.UniqueConstraint(
                fields=["recipient", "source_key"],
                condition=~Q(source_key=""),
                name="notification_once_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"To {self.recipient_id}: {self.message}"


class RescoreRun(models.Model):
    """Progress of re-scoring the open opportunities with a newly activated scoring model.

    Each batch re-scores the opportunities after ``cursor`` and moves the cursor on in the
    same transaction, so a run resumes where it stopped and never re-scores one twice.
    """

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        SUPERSEDED = "superseded", "Superseded by a newer model"
        FAILED = "failed", "Failed"

    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="rescore_runs")
    state = models.CharField(max_length=12, choices=State.choices, default=State.RUNNING)
    started_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["state"], condition=Q(state="running"), name="one_running_rescore"
            ),
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")) | Q(total=0), name="rescore_progress_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"Re-score with v{self.model_id}: {self.state} ({self.processed}/{self.total})"


# --- The triage board: settings, WIP limits, deadline digests (issue 6) ----------------------


@audited()
class BoardSettings(models.Model):
    """The board's one row of settings: the closing-the-loop clock and who hears about it."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    first_response_working_days = models.PositiveSmallIntegerField(
        "first response within (working days)",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    update_every_months = models.PositiveSmallIntegerField(
        "update the submitter at least every (months)",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    amber_working_days = models.PositiveSmallIntegerField(
        "show amber when this many working days or fewer are left",
        default=3,
        validators=[MinValueValidator(0), MaxValueValidator(20)],
    )
    ci_leads = models.ManyToManyField(
        USER,
        blank=True,
        related_name="+",
        help_text="Who gets the morning e-mail of overdue items.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "board settings"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="board_settings_singleton"),
        ]

    def __str__(self) -> str:
        return "Board settings"


@audited()
class BoardColumn(models.Model):
    """A board column's work-in-progress limit (none when blank)."""

    status = models.CharField(max_length=20, choices=Status.choices, unique=True)
    wip_limit = models.PositiveIntegerField(
        "WIP limit", null=True, blank=True, validators=[MinValueValidator(1)]
    )

    class Meta:
        ordering = ["status"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="board_column_is_open_status",
            ),
            models.CheckConstraint(
                condition=Q(wip_limit__isnull=True) | Q(wip_limit__gte=1),
                name="board_column_wip_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.wip_limit or 'no limit'}"


class DigestDelivery(models.Model):
    """One scheduled e-mail to one person for one period: what makes the morning escalation
    and the monthly "you said, we did" digest idempotent (a re-run skips who was sent)."""

    class Kind(models.TextChoices):
        ESCALATION = "escalation", "Overdue items for the CI lead"
        YOU_SAID_WE_DID = "you_said_we_did", "You said, we did"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    period = models.CharField(max_length=10)
    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    items = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period", "recipient"], name="digest_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.period} to {self.recipient_id}"
