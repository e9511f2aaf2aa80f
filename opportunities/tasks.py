"""Thin Celery tasks for opportunities, named after the services they call."""

from __future__ import annotations

from celery import shared_task

from opportunities.services import rescoring


@shared_task(
    name="scoring.rescore_run", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def rescore_run_task(run_id: int) -> str:
    """Re-score every open opportunity for a run; resumes from the run's cursor if redelivered."""
    return rescoring.rescore_run(run_id=run_id)
