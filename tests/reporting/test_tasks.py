"""Celery tasks, the failure alert and the data dictionary."""

from __future__ import annotations

import psycopg
import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.management import CommandError, call_command

from reporting import tasks
from reporting.models import EtlBatch
from reporting.services import extract as extract_module
from reporting.services.alerts import extract_failure_alert
from reporting.services.dictionary import data_dictionary_markdown, dictionary_path
from reporting.services.extract import ExtractBusyError
from synergy_portal.models import OutboxMessage, Role
from synergy_portal.outbox import outbox_deliver
from tests.reporting.factories import build_force, settle
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])


def _busy(**kwargs):  # type: ignore[no-untyped-def]
    raise ExtractBusyError(extract_module.MSG_BUSY)


def test_nightly_task_runs_a_batch_with_files(extract_dir) -> None:  # type: ignore[no-untyped-def]
    build_force()
    settle()
    batch_id = tasks.extract_nightly_task.apply(kwargs={"trigger": "schedule"}).get()
    batch = EtlBatch.objects.get(pk=batch_id)
    assert (batch.state, batch.trigger, bool(batch.files_path)) == ("succeeded", "schedule", True)


def test_refresh_task_skips_when_busy_and_nightly_retries(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tasks, "extract_run", _busy)
    assert tasks.extract_refresh_task.apply().get() == "busy"
    with pytest.raises(Retry):
        tasks.extract_nightly_task.apply(throw=True).get()


def test_nightly_task_retries_transient_errors_only() -> None:
    task = tasks.extract_nightly_task
    assert task.acks_late and task.reject_on_worker_lost
    assert set(task.autoretry_for) == {
        psycopg.OperationalError,
        *tasks.TRANSIENT_ERRORS,
    }
    assert psycopg.ProgrammingError not in task.autoretry_for


def test_two_failures_in_a_row_email_the_admins_once(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ADMINS = [("Ops", "ops@police.example")]
    UserFactory(email="admin@police.example", roles={Role.ADMIN})

    def fail(error: str) -> None:
        EtlBatch.objects.create(kind="refresh", state="failed", schema_version="1", error=error)

    EtlBatch.objects.create(kind="full", state="succeeded", schema_version="1")
    fail("first")
    assert not extract_failure_alert()
    fail("second")
    assert extract_failure_alert()
    fail("third")
    assert not extract_failure_alert()

    [message] = mail.outbox
    assert set(message.to) == {"ops@police.example", "admin@police.example"}
    assert "second" in message.body


def test_a_failing_batch_triggers_the_alert(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ADMINS = [("Ops", "ops@police.example")]
    build_force()

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(extract_module.load, "status_load", broken)
    for _ in range(2):
        with pytest.raises(psycopg.OperationalError):
            extract_module.extract_run(full=True)
    assert len(mail.outbox) == 1
    assert EtlBatch.objects.filter(state="failed").count() == 2


def test_requested_extract_is_published_by_the_outbox_handler(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sent = []
    monkeypatch.setattr("synergy_portal.outbox.outbox_dispatch", lambda **kwargs: 0)
    monkeypatch.setattr(
        tasks.extract_nightly_task, "apply_async", lambda **kwargs: sent.append(kwargs)
    )
    from reporting.services.requests import extract_request

    message = extract_request(actor=UserFactory(roles={Role.ADMIN}), full=True)

    assert outbox_deliver(message_id=message.pk) == "done"
    assert sent[0]["kwargs"]["full"] is True
    assert OutboxMessage.objects.get(pk=message.pk).state == "done"


def test_data_dictionary_is_current_and_check_fails_when_stale(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = data_dictionary_markdown()
    assert dictionary_path().read_text(encoding="utf-8") == text
    for table in ("dim_application", "fact_opportunity_daily", "etl_batch", "person_key"):
        assert table in text
    call_command("ddi_data_dictionary", "--check")
    stale = tmp_path / "dd.md"
    stale.write_text(text.replace("Natural key", "Something else"), encoding="utf-8")
    with pytest.raises(CommandError, match="stale"):
        call_command("ddi_data_dictionary", "--check", "--output", str(stale))


def test_each_batch_queues_the_dashboards_warm_up(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """After a batch lands the usual dashboard views are computed (here eagerly, in this
    process), so the first manager to open them reads the cache: no figures' statements."""
    from django.core.cache import cache

    from synergy_portal.celery import app
    from tests.reporting.test_dashboards_views import _queries, client_as, url

    settings.DASHBOARD_CACHE_SECONDS = 60
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    build_force()
    settle()
    cache.clear()
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    assert tasks.extract_refresh_task.apply().get() != "busy"
    client = client_as(Role.MANAGER)
    warmed = [_queries(client, url(section, ""))[1] for section in ("pipeline", "overview")]
    cache.clear()
    cold = [_queries(client, url(section, ""))[1] for section in ("pipeline", "overview")]
    cached = [_queries(client, url(section, ""))[1] for section in ("pipeline", "overview")]
    # The first visit after the batch ran no figures' statements: it read what was warmed.
    assert warmed == cached
    assert all(w < c for w, c in zip(warmed, cold, strict=True)), (warmed, cold)


def test_a_broker_outage_does_not_fail_the_batch(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Warming is best effort: with the broker down the batch still succeeds."""
    from synergy_portal.celery import app

    build_force()
    settle()
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    app.pool.force_close_all()
    monkeypatch.setattr(app, "_pool", None)
    assert tasks.dashboards_warm_queue() is False
    batch_id = tasks.extract_refresh_task.apply().get()
    assert EtlBatch.objects.get(pk=batch_id).state == "succeeded"
