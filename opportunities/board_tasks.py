"""Celery tasks for the board's clock: the morning escalation and the monthly digest.

Importable as ``opportunities.board_tasks`` (Celery's autodiscovery only finds ``tasks.py``,
which belongs to the scoring work): list it in ``CELERY_IMPORTS`` and add
:data:`BEAT_SCHEDULE` to the settings' ``CELERY_BEAT_SCHEDULE``. Both services are idempotent
per person and period, so a re-delivered or re-run task sends nothing twice.
"""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab

from opportunities.services import deadlines


@shared_task(
    name="board.deadlines_escalate", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def deadlines_escalate_task() -> int:
    """E-mail the CI lead(s) the overdue first responses and updates (once a day)."""
    return deadlines.deadlines_escalate()


@shared_task(
    name="board.you_said_we_did", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def digest_you_said_we_did_task() -> int:
    """E-mail followers what was delivered last month (once a month)."""
    return deadlines.digest_you_said_we_did()


# For the settings' CELERY_BEAT_SCHEDULE (times are CELERY_TIMEZONE, Europe/London).
BEAT_SCHEDULE = {
    "board-deadline-escalation": {
        "task": "board.deadlines_escalate",
        "schedule": crontab(hour=7, minute=30, day_of_week="mon-fri"),
    },
    "board-you-said-we-did": {
        "task": "board.you_said_we_did",
        "schedule": crontab(hour=8, minute=0, day_of_month=1),
    },
}
