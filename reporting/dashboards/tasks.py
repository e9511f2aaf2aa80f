"""Thin Celery task around :func:`reporting.dashboards.aggregates.aggregates_build` and
:func:`reporting.dashboards.warm.dashboards_warm`.

Queue it after each successful extract batch: it rebuilds the dashboards' aggregates from the
batch, then computes the usual views into the cache, so their figures are ready before anyone
asks. Running it twice for one batch finds the aggregates built and only reads the cache.
"""

from __future__ import annotations

import logging

from celery import shared_task

from reporting.dashboards.aggregates import AggregatesBusyError, aggregates_build
from reporting.dashboards.warm import dashboards_warm

logger = logging.getLogger(__name__)

EXPIRES_SECONDS = 14 * 60
BUSY_RETRY_SECONDS = 30
# Retries stay well inside the task's expiry (Celery keeps the first deadline).
BUSY_RETRIES = 12


@shared_task(
    name="reporting.dashboards_warm",
    bind=True,
    max_retries=BUSY_RETRIES,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    expires=EXPIRES_SECONDS,
)
def dashboards_warm_task(self) -> int:  # type: ignore[no-untyped-def]
    try:
        aggregates_build()
    except AggregatesBusyError as exc:
        # A build for an earlier batch is running: build this one after it.
        if self.request.retries < BUSY_RETRIES:
            raise self.retry(exc=exc, countdown=BUSY_RETRY_SECONDS) from exc
        logger.warning("Dashboard aggregates still busy; warming from the ddi tables")
    except Exception:
        # The dashboards read the ddi tables until a build succeeds: still warm them.
        logger.exception("Dashboard aggregates could not be built")
    return dashboards_warm()
