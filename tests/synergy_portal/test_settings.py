"""Production settings fail closed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "-production-secret-key-that-is-long-enough-0123456789"


def _load_settings(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SYNERGY_DEV_LOGIN"}
    }
    env.update(DJANGO_SETTINGS_MODULE="synergy_portal.settings", **overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_start_when_safe() -> None:
    result = _load_settings(SECRET_KEY=GOOD_KEY, ALLOWED_HOSTS="synergy.police.example")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"ALLOWED_HOSTS": "synergy.police.example"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": GOOD_KEY}, "ALLOWED_HOSTS must name"),
        ({"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must name"),
        (
            {
                "SECRET_KEY": GOOD_KEY,
                "ALLOWED_HOSTS": "synergy.police.example",
                "SYNERGY_DEV_LOGIN": "1",
            },
            "SYNERGY_DEV_LOGIN must be off",
        ),
    ],
)
def test_production_settings_refuse_unsafe_config(
    overrides: dict[str, str], complaint: str
) -> None:
    result = _load_settings(**overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_sqlite_is_refused() -> None:
    result = _load_settings(DEBUG="1", DATABASE_URL="sqlite:///tmp/x.db")
    assert result.returncode != 0
    assert "PostgreSQL only" in result.stderr
