"""Thin Celery tasks for the outbox."""

from __future__ import annotations

from celery import shared_task

from synergy_portal.outbox import outbox_deliver, outbox_sweep


@shared_task(name="outbox.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def outbox_deliver_task(message_id: int) -> str:
    return outbox_deliver(message_id=message_id)


@shared_task(name="outbox.sweep", ignore_result=True)
def outbox_sweep_task() -> int:
    return outbox_sweep()
