"""Project-wide fixtures: the reporting schema migrated in the test database, browser set-up."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM is used beside it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Both aliases share one test database, so Django migrates it once, as ``default``.

    The reporting alias keeps its own migration history in the ``ddi`` schema: migrate it too.
    """
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("migrate", database="reporting", verbosity=0, interactive=False)
    yield
    # Connections opened by threads that are gone (live servers, in-process Celery workers)
    # would keep the test database from being dropped: end them first.
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def redis_process():  # type: ignore[no-untyped-def]
    """A private Redis server the test may stop and restart (a real outage, not a mock)."""
    from tests.redis_process import RedisProcess

    server = RedisProcess()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_broker(redis_process, settings):  # type: ignore[no-untyped-def]
    """Point the Celery app (and the readiness probe) at the private Redis for this test."""
    from synergy_portal.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = redis_process.url
    settings.CELERY_BROKER_URL = redis_process.url
    _celery_pools_reset(app)
    yield redis_process
    app.conf.broker_url = previous
    _celery_pools_reset(app)


def _celery_pools_reset(app):  # type: ignore[no-untyped-def]
    """Close the app's connection and producer pools and forget them (kombu's registry too),
    so the next publish, in this test or a later one, opens fresh ones on the current broker."""
    import kombu.pools

    app.pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()
