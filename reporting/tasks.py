"""Thin Celery tasks for the DDI extract.

Schedule (``CELERY_BEAT_SCHEDULE``): ``reporting.extract_nightly`` once a night (files for
DDI), ``reporting.extract_refresh`` every 15 minutes (the schema only, for dashboards).
After each successful batch ``reporting.dashboards_warm`` is queued, so the dashboards' usual
views are computed before the first manager opens them.
"""

from __future__ import annotations

import logging

import psycopg
from celery import shared_task
from django.db.utils import OperationalError

from reporting.dashboards.tasks import dashboards_warm_task
from reporting.services.extract import ExtractBusyError, extract_run

logger = logging.getLogger(__name__)

# Lost connections, timeouts, a server restarting: worth another try. Anything else (a bug,
# bad data) fails the batch and waits for a person.
TRANSIENT_ERRORS = (OperationalError, psycopg.OperationalError)
BUSY_RETRY_SECONDS = 120


def dashboards_warm_queue() -> bool:
    """Queue the dashboards' warm-up for the batch just landed. Best effort: without it the
    first visitor computes the figures, so a broker hiccup is logged, never raised."""
    try:
        dashboards_warm_task.apply_async(retry=False)
    except Exception:  # the broker's own errors vary by transport
        logger.warning("Could not queue the dashboards' warm-up", exc_info=True)
        return False
    return True


@shared_task(
    name="reporting.extract_nightly",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=60,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=4,
    ignore_result=True,
)
def extract_nightly_task(self, full: bool = False, trigger: str = "schedule") -> str:  # type: ignore[no-untyped-def]
    try:
        batch = extract_run(full=full, trigger=trigger or "schedule")
    except ExtractBusyError as exc:
        # A dashboard refresh is running: DDI's nightly batch waits for it, never skips.
        raise self.retry(exc=exc, countdown=BUSY_RETRY_SECONDS, max_retries=15) from exc
    dashboards_warm_queue()
    return str(batch.batch_id)


@shared_task(
    name="reporting.extract_refresh",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    expires=14 * 60,
)
def extract_refresh_task(trigger: str = "schedule") -> str:
    try:
        batch = extract_run(files=False, trigger=trigger or "schedule")
    except ExtractBusyError:
        # The next refresh is a quarter of an hour away.
        return "busy"
    dashboards_warm_queue()
    return str(batch.batch_id)
