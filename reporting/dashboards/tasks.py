"""Thin Celery task around :func:`reporting.dashboards.warm.dashboards_warm`.

Queue it after each successful extract batch (its figures are then ready before anyone
asks); running it twice for one batch only reads the cache.
"""

from __future__ import annotations

from celery import shared_task

from reporting.dashboards.warm import dashboards_warm


@shared_task(
    name="reporting.dashboards_warm",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    expires=14 * 60,
)
def dashboards_warm_task() -> int:
    return dashboards_warm()
