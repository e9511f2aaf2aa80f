"""The DDI star schema (database alias ``reporting``, PostgreSQL schema ``ddi``)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class EtlBatch(models.Model):
    """Kimball's audit dimension: one row per extract batch; every fact row carries its id."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    batch_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=12, default="incremental")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    watermark_from = models.BigIntegerField(null=True, blank=True)
    watermark_to = models.BigIntegerField(null=True, blank=True)
    schema_version = models.CharField(max_length=20)
    rows = models.JSONField(default=dict)
    checksums = models.JSONField(default=dict)
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "etl_batch"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.batch_id} ({self.state})"
