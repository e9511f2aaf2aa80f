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
