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
