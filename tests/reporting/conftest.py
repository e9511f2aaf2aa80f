"""Extract tests commit for real (two connections, advisory locks, late commits), so they run
as transactional tests on both aliases, with their own extract folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def extract_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.EXTRACT_DIR = tmp_path / "extracts"
    settings.PSEUDONYM_KEY = "test-pseudonym-key"
    return settings.EXTRACT_DIR
