"""The extract batches (Kimball's audit dimension)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import models
from django.utils import timezone

# Bump on any change to the reporting tables' columns or meaning (semantic versioning: a new
# column is minor, a renamed, retyped or removed one is major). Written into every batch and
# every data package, so DDI can tell which layout it is reading.
SCHEMA_VERSION = "2.0.0"


class EtlBatch(models.Model):
    """One row per extract batch (Kimball's audit dimension); every fact and dimension row
    carries the id of the batch that last wrote it."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        FULL = "full", "Full rebuild"
        INCREMENTAL = "incremental", "Incremental (with files)"
        REFRESH = "refresh", "Dashboard refresh (no files)"

    batch_id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, editable=False, help_text="Batch identifier."
    )
    kind = models.CharField(
        max_length=12,
        choices=Kind.choices,
        default=Kind.INCREMENTAL,
        help_text="full (everything rebuilt), incremental (changes, with files) or refresh "
        "(changes, for dashboards, no files).",
    )
    state = models.CharField(
        max_length=10,
        choices=State.choices,
        default=State.RUNNING,
        help_text="running, succeeded or failed.",
    )
    trigger = models.CharField(
        max_length=80,
        blank=True,
        default="",
        help_text="What started the batch: schedule, command, or admin:<username>.",
    )
    watermark_from = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Lower bound of the window (transaction id, inclusive); empty for a full "
        "rebuild.",
    )
    watermark_to = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Upper bound of the window (transaction id, exclusive): the oldest portal "
        "transaction still running when the extract's snapshot was taken.",
    )
    as_of = models.DateField(
        null=True,
        blank=True,
        help_text="The batch's day: the last day of the daily snapshot (the fact_opportunity_daily view).",
    )
    schema_version = models.CharField(
        max_length=20, help_text="Version of the reporting schema the batch was written in."
    )
    rows = models.JSONField(
        default=dict, help_text="Rows written per table, and the opportunities touched."
    )
    checksums = models.JSONField(
        default=dict, help_text="SHA-256 of each file of the batch's data package."
    )
    timings = models.JSONField(default=dict, help_text="Seconds spent in each step.")
    files_path = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="Folder of the batch's files, relative to EXTRACT_DIR; empty if none.",
    )
    error = models.TextField(blank=True, default="", help_text="Why the batch failed.")
    started_at = models.DateTimeField(default=timezone.now, help_text="When the batch started.")
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When the batch succeeded or failed."
    )

    class Meta:
        db_table = "etl_batch"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["state", "-started_at"], name="etl_batch_state_idx")]

    def __str__(self) -> str:
        return f"{self.batch_id} ({self.state})"

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    @property
    def has_files(self) -> bool:
        return bool(self.files_path)
