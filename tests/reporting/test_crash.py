"""A batch killed with SIGKILL mid-transaction (a worker lost): nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connections

from opportunities.models import Opportunity
from reporting.models import EtlBatch
from reporting.services.extract import MSG_INTERRUPTED, ExtractBusyError
from tests.reporting.factories import build_force, ddi_rows, run, settle

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])
ROOT = Path(__file__).resolve().parents[2]


def _url(settings_dict: dict) -> str:  # type: ignore[type-arg]
    host = quote(str(settings_dict["HOST"] or ""), safe="")
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    return f"postgres://{settings_dict['USER']}@{host}{port}/{settings_dict['NAME']}"


def _connect(settings_dict: dict) -> psycopg.Connection:  # type: ignore[type-arg]
    return psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
    )


def test_a_killed_batch_changes_nothing_and_the_next_one_recovers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    force = build_force()
    good = run(full=True)
    rows = ddi_rows()
    Opportunity.objects.filter(pk=force.opportunities["submitted"].pk).update(title="After")
    settle()
    db = connections["default"].settings_dict
    # Hold a table the full rebuild must empty, so the child stops mid-transaction.
    blocker = _connect(db)
    blocker.execute("LOCK TABLE ddi.fact_support IN ACCESS EXCLUSIVE MODE")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _url(db),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REPORTING_DATABASE_URL", None)
    child = subprocess.Popen(
        [sys.executable, "manage.py", "run_extract", "--full"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not EtlBatch.objects.filter(state="running").exists():
            assert time.monotonic() < deadline, "the child never started its batch"
            assert child.poll() is None, "the child exited early"
            time.sleep(0.1)
        waiting = blocker.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'ddi.fact_support'::regclass"
        )
        while waiting.fetchone()[0] == 0:
            assert time.monotonic() < deadline, "the child never reached the facts"
            time.sleep(0.1)
            waiting = blocker.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                "AND relation = 'ddi.fact_support'::regclass"
            )
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        blocker.rollback()
        blocker.close()
        if child.poll() is None:
            child.kill()

    assert ddi_rows() == rows
    # The server notices the dead client once its statement ends; then the lock is free.
    deadline = time.monotonic() + 30
    while True:
        try:
            recovered = run()
            break
        except ExtractBusyError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    killed = EtlBatch.objects.exclude(pk__in=[good.pk, recovered.pk]).get()
    assert (killed.state, killed.error) == ("failed", MSG_INTERRUPTED)
    assert recovered.state == "succeeded"
    assert recovered.watermark_from == good.watermark_to
    from reporting.models import FactOpportunity

    assert FactOpportunity.objects.get(pk=force.opportunities["submitted"].pk).title == "After"


def _worker(env: dict[str, str]) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen(
        [
            sys.executable,
            *("-m", "celery", "-A", "synergy_portal", "worker"),
            *("--pool=solo", "--without-heartbeat", "--without-gossip", "--without-mingle"),
            *("--loglevel=WARNING",),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(condition, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_celery_worker_killed_mid_batch_is_redelivered_and_the_retry_completes(
    celery_broker, tmp_path, settings
) -> None:  # type: ignore[no-untyped-def]
    """The nightly task on a real worker process, SIGKILLed mid-transaction: the message is
    not acknowledged (acks_late), so Redis hands it to the next worker once the visibility
    timeout passes; that run marks the lost batch failed and lands the same rows as a batch
    that was never interrupted."""
    from synergy_portal.celery import app

    force = build_force()
    good = run(full=True)
    Opportunity.objects.filter(pk=force.opportunities["submitted"].pk).update(title="After")
    settle()
    db = connections["default"].settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _url(db),
        "REDIS_URL": celery_broker.url,
        "CELERY_BROKER_URL": celery_broker.url,
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "PSEUDONYM_KEY": settings.PSEUDONYM_KEY,
        "EXTRACT_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REPORTING_DATABASE_URL", None)
    blocker = _connect(db)
    first = None
    try:
        blocker.execute("LOCK TABLE ddi.fact_support IN ACCESS EXCLUSIVE MODE")
        with app.connection_for_write(celery_broker.url) as connection:
            app.send_task(
                "reporting.extract_nightly",
                kwargs={"full": True, "trigger": "manual"},
                connection=connection,
            )
        first = _worker(env)
        _wait(lambda: EtlBatch.objects.filter(state="running").exists(), "no batch started")

        def waiting() -> bool:
            return (
                blocker.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted "
                    "AND relation = 'ddi.fact_support'::regclass"
                ).fetchone()[0]
                > 0
            )

        _wait(waiting, "the worker never reached the facts")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
    finally:
        blocker.rollback()
        blocker.close()
        if first is not None and first.poll() is None:
            first.kill()
    lost = EtlBatch.objects.get(state="running")

    # Once the dead worker's server session has gone (and its advisory lock with it)...
    def lock_free() -> bool:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            return cursor.fetchone()[0] == 0

    _wait(lock_free, "the killed batch's lock was never released")
    time.sleep(2.5)  # ...and the unacknowledged message is past its visibility timeout.
    second = _worker(env)
    try:
        _wait(
            lambda: EtlBatch.objects.filter(state="succeeded").exclude(pk=good.pk).exists(),
            "the redelivered task never completed",
            seconds=90,
        )
    finally:
        second.terminate()
        second.wait(30)

    lost.refresh_from_db()
    assert (lost.state, lost.error) == ("failed", MSG_INTERRUPTED)
    assert not lost.files_path
    retried = EtlBatch.objects.filter(state="succeeded").exclude(pk=good.pk).get()
    assert (retried.kind, retried.trigger) == ("full", "manual")
    assert (tmp_path / retried.files_path / "datapackage.json").is_file()
    rows = ddi_rows()
    assert ("After" in str(rows["fact_opportunity"])) is True
    # The same rows as a batch that was never interrupted.
    run(full=True)
    assert ddi_rows() == rows
