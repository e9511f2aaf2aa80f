"""pytest plugin (loaded with ``-p`` before pytest-django reads settings).

Starts the private PostgreSQL and Redis when the environment names no servers, so a plain
``pytest`` works on a fresh machine. xdist workers inherit the exported URLs.
"""

from __future__ import annotations

from typing import Any

from synergy_portal.devservices import ensure_services, require_services_or_fail, stop_services

require_services_or_fail()
ensure_services()


def pytest_unconfigure(config: Any) -> None:
    # Stop while pytest's output streams are still open (atexit would be too late).
    stop_services()
