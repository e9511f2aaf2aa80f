"""Reads of extract batches, for the API and the admin page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from django.db.models import QuerySet

from reporting.models import EtlBatch
from reporting.services.files import DATAPACKAGE, resolve_file


def batch_list(*, state: str | None = None, kind: str | None = None) -> QuerySet[EtlBatch]:
    batches = EtlBatch.objects.all()
    if state:
        batches = batches.filter(state=state)
    if kind:
        batches = batches.filter(kind=kind)
    return batches.order_by("-started_at")


def batch_get(*, batch_id: uuid.UUID) -> EtlBatch | None:
    return EtlBatch.objects.filter(pk=batch_id).first()


@dataclass(frozen=True)
class BatchFile:
    name: str
    sha256: str | None


def batch_files(batch: EtlBatch) -> list[BatchFile]:
    """The files of a batch: its data package first, then every resource."""
    if not batch.files_path:
        return []
    return [BatchFile(DATAPACKAGE, None)] + [
        BatchFile(name, digest) for name, digest in sorted(batch.checksums.items())
    ]


def batch_file_path(*, batch: EtlBatch, name: str) -> Path | None:
    if batch.state != EtlBatch.State.SUCCEEDED:
        return None
    return resolve_file(files_path=batch.files_path, name=name)


def batch_summary(batches: list[EtlBatch]) -> dict[str, EtlBatch | None]:
    succeeded = [b for b in batches if b.state == EtlBatch.State.SUCCEEDED]
    failed = [b for b in batches if b.state == EtlBatch.State.FAILED]
    return {
        "last_success": succeeded[0] if succeeded else None,
        "last_failure": failed[0] if failed else None,
    }
