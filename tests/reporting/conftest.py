"""Extract tests commit for real (two connections, advisory locks, late commits), so they run
as transactional tests on both aliases, with their own extract folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def extract_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.EXTRACT_DIR = tmp_path / "extracts"
    settings.PSEUDONYM_KEY = "test-pseudonym-key"
    return settings.EXTRACT_DIR


@pytest.fixture(autouse=True)
def _dashboard_aggregates_forgotten(request: pytest.FixtureRequest) -> Iterator[None]:
    """The dashboards' aggregates (schema dash) are not models, so a test that commits does
    not have them flushed: forget which batch they were built for, or a later test could find
    a build of another test's data."""
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    from django.db import connections

    with connections["reporting"].cursor() as cursor:
        cursor.execute("DELETE FROM dash.built")
