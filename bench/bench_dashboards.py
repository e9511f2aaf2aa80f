"""MI dashboard response times: every section, through Django's test client as a manager.

The ``ddi`` schema is brought up to the scale first (a full extract without files when it
holds fewer opportunities than the portal, else a refresh), then the dashboards' aggregates
(schema ``dash``) are rebuilt from it, as the worker does after each batch. Then, per
section, with the default filters (the last 12 months), "all time", one department and DNA
theme, and a custom period:

- **cold**: the section's figures computed on every request (the cache switched off), which
  is what the first visitor of a filter combination after each batch pays;
- **cached**: the figures read from the cache (keyed by batch and filters), which is what
  everyone else pays until the next batch.

Three warm-up requests, then 20 timed ones each: p50, p95, max and mean in milliseconds,
plus the SQL time of the section's one statement alone (``sql_p50_ms``/``sql_p95_ms``).
"""

from __future__ import annotations

import math
import os
import statistics
import time
from typing import Any

NAME = "dashboards"
WARM_UP = 3
REQUESTS = 20
# Cold requests at a million take seconds each: fewer of them there.
LARGE_SCALE = 500_000
LARGE_WARM_UP = 1
LARGE_REQUESTS = 5
VARIANTS = {"default": "", "all_time": "period=all"}


def _variants() -> dict[str, str]:
    """The two views every manager opens, plus a department and DNA theme filtered one and a
    custom period (its end is not one the engagement aggregate keeps, so engagement reads the
    ddi tables there)."""
    from datetime import timedelta

    from django.db import connections

    with connections["reporting"].cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT min(department_key) FROM dim_department), "
            "(SELECT min(dna_theme_key) FROM dim_dna_theme), "
            "(SELECT as_of FROM etl_batch WHERE state = 'succeeded' "
            "ORDER BY finished_at DESC LIMIT 1)"
        )
        department, theme, as_of = cursor.fetchone()
    start, end = as_of - timedelta(days=90), as_of - timedelta(days=30)
    return {
        **VARIANTS,
        "department_theme": f"department={department}&theme={theme}",
        "custom_period": f"period=custom&from={start.isoformat()}&to={end.isoformat()}",
    }


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _stats(timings: list[float]) -> dict[str, Any]:
    return {
        "n": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
    }


def _ddi_ensure() -> dict[str, Any]:
    from django.db import connections

    from opportunities.models import Opportunity
    from reporting.services.extract import extract_run

    with connections["reporting"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM fact_opportunity")
        loaded = cursor.fetchone()[0]
    wanted = Opportunity.objects.exclude(status="draft").count()
    started = time.perf_counter()
    full = loaded < wanted
    batch = extract_run(full=full, files=False, trigger="bench")
    extract_s = round(time.perf_counter() - started, 1)
    # The dashboards' aggregates, as the worker builds them after each batch.
    from reporting.dashboards.aggregates import aggregates_build

    built = aggregates_build(force=True)
    return {
        "extract": "full" if full else "refresh",
        "extract_s": extract_s,
        "fact_opportunity_rows": batch.rows.get("fact_opportunity", loaded),
        "batch_id": str(batch.batch_id),
        "aggregates_s": round(built.seconds, 1) if built else None,
        "aggregate_rows": built.rows if built else None,
    }


def _time_pages(client: Any, path: str, *, warm_up: int, requests: int) -> dict[str, Any]:
    statuses = set()
    for _ in range(warm_up):
        statuses.add(client.get(path).status_code)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        statuses.add(response.status_code)
    return {"path": path, "status_codes": sorted(statuses), **_stats(timings)}


def _time_sql(slug: str, query: str, *, warm_up: int, requests: int) -> dict[str, Any]:
    """The section's statement alone (no HTTP, no template), in its read-only snapshot."""
    from django.http import QueryDict

    from reporting.dashboards.filters import DashboardFilterForm
    from reporting.dashboards.selectors import SECTIONS
    from reporting.dashboards.selectors.base import (
        Context,
        batch_latest,
        filter_options,
        reporting_snapshot,
    )

    timings = []
    for attempt in range(warm_up + requests):
        with reporting_snapshot() as cursor:
            batch = batch_latest(cursor)
            options = filter_options(cursor)
            form = DashboardFilterForm(QueryDict(query), options=options, as_of=batch.as_of)
            ctx = Context(cursor, form.filters(), options, batch)
            started = time.perf_counter()
            SECTIONS[slug].build(ctx)
            if attempt >= warm_up:
                timings.append((time.perf_counter() - started) * 1000)
    stats = _stats(timings)
    return {"sql_p50_ms": stats["p50_ms"], "sql_p95_ms": stats["p95_ms"]}


def run(scale: int) -> dict[str, Any]:
    from django.conf import settings
    from django.test import Client

    from reporting.dashboards.selectors import SECTIONS
    from reporting.dashboards.warm import dashboards_warm
    from synergy_portal.models import User

    setup = _ddi_ensure()
    large = scale >= LARGE_SCALE
    counts = {
        "warm_up": LARGE_WARM_UP if large else WARM_UP,
        "requests": LARGE_REQUESTS if large else REQUESTS,
    }
    client = Client(SERVER_NAME="localhost")
    client.force_login(User.objects.get(username="manager"))
    variants = _variants()
    sections: dict[str, Any] = {}
    previous = getattr(settings, "DASHBOARD_CACHE_SECONDS", None)
    try:
        for slug in SECTIONS:
            base = "/dashboards/" if slug == "overview" else f"/dashboards/{slug}/"
            for variant, query in variants.items():
                path = f"{base}?{query}" if query else base
                settings.DASHBOARD_CACHE_SECONDS = 0
                cold = _time_pages(client, path, **counts)
                cold.update(_time_sql(slug, query, **counts))
                # The first warm-up request fills the cache (its key names this batch).
                settings.DASHBOARD_CACHE_SECONDS = 3600
                cached = _time_pages(client, path, warm_up=WARM_UP, requests=REQUESTS)
                sections[f"{slug}:{variant}"] = {"cold": cold, "cached": cached}
    finally:
        if previous is None:
            del settings.DASHBOARD_CACHE_SECONDS
        else:
            settings.DASHBOARD_CACHE_SECONDS = previous
    # What the background warm-up after a batch costs (every section, its usual periods),
    # with the cache on but empty for this pass (a key prefix no batch uses).
    settings.DASHBOARD_CACHE_SECONDS = 3600
    started = time.perf_counter()
    views = dashboards_warm(prefix=f"bench-{time.time_ns()}")
    warm_s = round(time.perf_counter() - started, 1)
    if previous is None:
        del settings.DASHBOARD_CACHE_SECONDS
    else:
        settings.DASHBOARD_CACHE_SECONDS = previous
    worst = max(sections.items(), key=lambda item: item[1]["cold"]["p95_ms"])
    return {
        **setup,
        "load_average": list(os.getloadavg()),
        "warm": {"views": views, "seconds": warm_s},
        "sections": sections,
        "summary": [
            f"{setup['extract']} extract in {setup['extract_s']} s "
            f"({setup['fact_opportunity_rows']:,} opportunities in ddi); aggregates built in "
            f"{setup['aggregates_s']} s ({setup['aggregate_rows']})",
            f"warm-up after a batch: {views} views in {warm_s} s; load {os.getloadavg()}",
            *(
                f"{name}: cold p50 {s['cold']['p50_ms']} / p95 {s['cold']['p95_ms']} ms "
                f"(SQL p95 {s['cold']['sql_p95_ms']}), cached p50 {s['cached']['p50_ms']} / "
                f"p95 {s['cached']['p95_ms']} ms (HTTP {s['cold']['status_codes']})"
                for name, s in sections.items()
            ),
            f"slowest cold p95: {worst[0]} {worst[1]['cold']['p95_ms']} ms",
        ],
    }
