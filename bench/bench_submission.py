"""Submission: the similar-opportunity lookup and the browse page (issue 4).

- ``similar``: ``opportunities.selectors_similar.opportunity_similar`` called directly, as the demo
  staff user, with 40 typed texts (30 rewordings of existing opportunities, 10 unrelated),
  each timed 5 times; and the htmx endpoint ``POST /opportunities/new/similar/`` through the
  whole Django stack (middleware, session, template) for the same texts.
- ``browse``: ``GET /opportunities/`` with the filters and sorts people use (newest, most
  supported, highest priority, full-text search, journey + status, a deep page, the htmx
  results region), 3 warm-up requests then 30 timed ones each.

Targets (issue 4, at 100,000 opportunities on PostgreSQL): lookup p95 < 50 ms, page p95
< 150 ms. Times are server-side (Django test client, no network).
"""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

NAME = "submission"
WARM_UP = 3
REQUESTS = 30
SIMILAR_REPEATS = 5
TARGET_LOOKUP_P95_MS = 50
TARGET_PAGE_P95_MS = 150
UNRELATED = [
    ("Printer on the second floor jams", "The printer by the briefing room jams every morning."),
    ("Cannot book leave on my phone", "The HR system only works on a desktop in the station."),
    ("Radio battery dies mid-shift", "Airwave handsets run flat before the end of a late turn."),
    ("Parking permits are paper only", "We fill in a paper form for every visitor parking permit."),
    ("Training records are duplicated", "Course completions are typed into two learning systems."),
    ("Fleet booking double-books vans", "The fleet calendar lets two teams book the same van."),
    ("Expenses need three signatures", "Mileage claims are printed, signed and scanned back in."),
    ("Intranet search finds nothing", "Searching the intranet for policies returns old pages."),
    ("Shift swap needs an e-mail chain", "Swapping a shift takes five e-mails and a spreadsheet."),
    ("Body armour sizes not recorded", "Stores cannot see which size of body armour I was issued."),
]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _figures(timings: list[float], **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "n": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
    }


def _timed(call: Callable[[], Any], times: int) -> list[float]:
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def typed_texts(seed: int = 4) -> list[tuple[str, str]]:
    """What people type: rewordings of 30 existing opportunities, and 10 unrelated ideas."""
    from opportunities.models import Opportunity, Status

    rng = random.Random(seed)
    ids = list(
        Opportunity.objects.exclude(status=Status.DRAFT)
        .order_by("pk")
        .values_list("pk", flat=True)[:5000]
    )
    texts = []
    for row in Opportunity.objects.filter(pk__in=rng.sample(ids, min(30, len(ids)))).only(
        "title", "problem"
    ):
        words = row.title.split()
        rng.shuffle(words)
        kept = words[: max(3, len(words) * 2 // 3)]
        texts.append((" ".join(kept), row.problem.split(".")[0][:300]))
    return texts + UNRELATED


def time_similar_lookup(texts: list[tuple[str, str]], user: Any) -> dict[str, Any]:
    from opportunities.selectors_similar import opportunity_similar

    found = []
    for title, problem in texts:  # warm up (plans, caches)
        found.append(len(opportunity_similar(user=user, title=title, problem=problem)))
    timings: list[float] = []
    for title, problem in texts:
        timings += _timed(
            lambda t=title, p=problem: opportunity_similar(user=user, title=t, problem=p),
            SIMILAR_REPEATS,
        )
    return _figures(
        timings,
        texts=len(texts),
        mean_suggestions=round(statistics.fmean(found), 2),
        related_with_suggestions=sum(1 for n in found[: -len(UNRELATED)] if n),
        unrelated_with_suggestions=sum(1 for n in found[-len(UNRELATED) :] if n),
    )


def _client(user: Any) -> Any:
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    return client


def time_similar_endpoint(texts: list[tuple[str, str]], user: Any) -> dict[str, Any]:
    client = _client(user)
    statuses: set[int] = set()

    def post(title: str, problem: str) -> None:
        response = client.post(
            "/opportunities/new/similar/",
            {"title": title, "problem": problem},
            HTTP_HX_REQUEST="true",
        )
        statuses.add(response.status_code)

    for title, problem in texts[:WARM_UP]:
        post(title, problem)
    timings: list[float] = []
    for title, problem in texts:
        timings += _timed(lambda t=title, p=problem: post(t, p), 2)
    return _figures(timings, path="/opportunities/new/similar/", status_codes=sorted(statuses))


def browse_paths() -> list[tuple[str, str, dict[str, str]]]:
    from opportunities.models import Opportunity, Status

    journey_id = (
        Opportunity.objects.filter(journey__isnull=False)
        .values_list("journey_id", flat=True)
        .first()
    )
    word = "upload"
    pages = Opportunity.objects.exclude(status=Status.DRAFT).count() // 20
    return [
        ("newest", "/opportunities/", {}),
        ("most_supported", "/opportunities/?sort=supported", {}),
        ("highest_priority", "/opportunities/?sort=priority", {}),
        ("search", f"/opportunities/?q={word}", {}),
        ("search_supported", f"/opportunities/?q={word}&sort=supported", {}),
        (
            "journey_and_status",
            f"/opportunities/?journey={journey_id}&status=backlog&status=triage",
            {},
        ),
        ("deep_page", f"/opportunities/?page={max(1, pages // 2)}", {}),
        (
            "htmx_results",
            "/opportunities/?sort=supported&status=backlog",
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"},
        ),
    ]


def time_browse(user: Any) -> dict[str, dict[str, Any]]:
    client = _client(user)
    results = {}
    for label, path, headers in browse_paths():
        for _ in range(WARM_UP):
            client.get(path, **headers)
        statuses: set[int] = set()

        def get(p: str = path, h: dict[str, str] = headers, seen: set[int] = statuses) -> None:
            seen.add(client.get(p, **h).status_code)

        results[label] = _figures(_timed(get, REQUESTS), path=path, status_codes=sorted(statuses))
    return results


def run(scale: int) -> dict[str, Any]:
    from django.conf import settings

    from synergy_portal.models import User

    settings.RATELIMIT_ENABLE = False  # the bench is one user making thousands of requests
    load_before = os.getloadavg()
    staff = User.objects.get(username="staff")
    texts = typed_texts()
    lookup = time_similar_lookup(texts, staff)
    endpoint = time_similar_endpoint(texts, staff)
    browse = time_browse(staff)
    worst_page = max(browse.values(), key=lambda figures: figures["p95_ms"])
    summary = [
        f"similar lookup: p50 {lookup['p50_ms']} ms, p95 {lookup['p95_ms']} ms "
        f"(target < {TARGET_LOOKUP_P95_MS}), {lookup['mean_suggestions']} suggestions on average; "
        f"{lookup['related_with_suggestions']}/30 rewordings and "
        f"{lookup['unrelated_with_suggestions']}/10 unrelated texts got suggestions",
        f"similar endpoint (htmx, whole stack): p50 {endpoint['p50_ms']} ms, p95 {endpoint['p95_ms']} ms",
    ]
    summary += [
        f"browse {label}: p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms (HTTP {'/'.join(map(str, f['status_codes']))})"
        for label, f in browse.items()
    ]
    summary.append(
        f"browse worst p95: {worst_page['p95_ms']} ms ({worst_page['path']}; target < {TARGET_PAGE_P95_MS})"
    )
    load = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    summary.append(
        f"load average (1, 5, 15 min) before {load[:3]}, after {load[3:]} on {os.cpu_count()} CPUs"
    )
    return {
        "load_average_before_after": load,
        "similar_lookup": lookup,
        "similar_endpoint": endpoint,
        "browse": browse,
        "targets": {"lookup_p95_ms": TARGET_LOOKUP_P95_MS, "page_p95_ms": TARGET_PAGE_P95_MS},
        "summary": summary,
    }
