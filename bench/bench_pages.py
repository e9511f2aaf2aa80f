"""Page response times through Django's test client (the whole stack but the network).

GET / signed in as the demo staff user and as the demo CI user, and GET /readyz: a few
warm-up requests, then 30 timed ones each; p50 / p95 / max in milliseconds.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

NAME = "pages"
WARM_UP = 3
REQUESTS = 30
PAGES = [
    # (label, path, demo username or None for anonymous)
    ("home_staff", "/", "staff"),
    ("home_ci", "/", "ci"),
    ("readyz", "/readyz", None),
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def time_page(path: str, username: str | None) -> dict[str, Any]:
    from django.test import Client

    from synergy_portal.models import User

    client = Client(SERVER_NAME="localhost")
    if username:
        client.force_login(User.objects.get(username=username))
    for _ in range(WARM_UP):
        client.get(path)
    timings, statuses = [], set()
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    return {
        "path": path,
        "user": username,
        "n": len(timings),
        "status_codes": sorted(statuses),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
    }


def run(scale: int) -> dict[str, Any]:
    pages = {label: time_page(path, username) for label, path, username in PAGES}
    return {
        "pages": pages,
        "summary": [
            f"{label}: p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms, max {p['max_ms']} ms "
            f"(HTTP {'/'.join(map(str, p['status_codes']))})"
            for label, p in pages.items()
        ],
    }
