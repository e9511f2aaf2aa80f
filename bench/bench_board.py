"""Triage board response times (Django test client: the whole stack but the network).

Signed in as the demo CI user: the board (board order, priority order, a text filter, an
owner filter, swimlanes by journey), a column's "load more", the live-update poll (nothing
changed, and after one move), the triage panel and an htmx move. Three warm-up requests, then
30 timed ones each: p50 / p95 / max in ms, and the queries each request ran, which must not
grow with the data (target: board p95 under 150 ms at 100,000 opportunities, and flat from
10,000). Column counts are cached per board change, so "board" is the usual case and
"board_after_a_change" (a card changed just before each request) the uncached one. The table
is vacuumed first, as autovacuum would have done on a live portal.

Run through the harness: ``bench/run.py --only board`` (``--scales 10000,100000``).
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

NAME = "board"
WARM_UP = 3
REQUESTS = 30
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://localhost/board/"}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _time(client: Any, label: str, request: Any, before: Any = None) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARM_UP):
        request(client)
    timings, cpu, statuses = [], [], set()
    queries = 0
    for _ in range(REQUESTS):
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as captured:
            response = request(client)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        statuses.add(response.status_code)
        queries = len(captured.captured_queries)
    return {
        "label": label,
        "n": len(timings),
        "status_codes": sorted(statuses),
        "queries": queries,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
        # This process's CPU time: what the request costs in Python whatever else the
        # (shared) machine is doing; the wall-clock figures above move with its load.
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "sql_ms_last": round(sum(float(q["time"]) for q in captured.captured_queries) * 1000, 2),
    }


def run(scale: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from opportunities.models import Opportunity, Status
    from opportunities.selectors_board import board_marker
    from synergy_portal.models import User

    # The seed has just bulk-loaded the table: vacuum it as autovacuum would have by now, so
    # the column counts are the index-only scans they are on a live portal.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE opportunities_opportunity")
    ci = User.objects.get(username="ci")
    client = Client(SERVER_NAME="localhost")
    client.force_login(ci)
    open_counts = {
        status: Opportunity.objects.filter(status=status).count()
        for status in (
            Status.SUBMITTED,
            Status.TRIAGE,
            Status.ASSESSING,
            Status.BACKLOG,
            Status.IN_DELIVERY,
        )
    }
    card = Opportunity.objects.filter(status=Status.TRIAGE).order_by("board_rank", "pk").first()
    movable = (
        Opportunity.objects.filter(status=Status.TRIAGE).order_by("-board_rank", "-pk").first()
    )
    cursor = f"{card.board_rank}|{card.pk}" if card else ""
    marker = board_marker()

    def move_within(c: Any) -> Any:
        # Up one, then down one: the column ends as it began, every request a real move.
        movable.refresh_from_db(fields=["version"])
        return c.post(
            f"/board/cards/{movable.reference}/move/",
            {"version": movable.version, "move": "up" if movable.version % 2 else "down"},
            **HX,
        )

    cases = [
        ("board", lambda c: c.get("/board/")),
        ("board_priority", lambda c: c.get("/board/?sort=priority")),
        ("board_text_filter", lambda c: c.get("/board/?q=upload")),
        ("board_owner_me", lambda c: c.get("/board/?owner=me")),
        ("board_lanes_journey", lambda c: c.get("/board/?lanes=journey")),
        ("load_more", lambda c: c.get(f"/board/columns/triage/?cursor={cursor}", **HX)),
        ("panel", lambda c: c.get(f"/board/cards/{card.reference}/", **HX)),
        ("move_within_column", move_within),
        ("poll_unchanged", lambda c: c.get(f"/board/changes/?since={board_marker()}", **HX)),
        ("poll_after_moves", lambda c: c.get(f"/board/changes/?since={marker}", **HX)),
    ]
    pages = {label: _time(client, label, request) for label, request in cases}

    def someone_changes_a_card() -> None:
        # Not timed: a change elsewhere moves the board's marker, so the next board request
        # counts the columns afresh instead of reusing the counts of the last change.
        Opportunity.objects.filter(pk=card.pk).update(updated_at=timezone.now())

    pages["board_after_a_change"] = _time(
        client, "board_after_a_change", lambda c: c.get("/board/"), someone_changes_a_card
    )
    return {
        "open_cards": open_counts,
        "pages": pages,
        "summary": [
            f"{label}: p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms, max {p['max_ms']} ms, "
            f"CPU p50 {p['cpu_p50_ms']} ms, {p['queries']} queries "
            f"(HTTP {'/'.join(map(str, p['status_codes']))})"
            for label, p in pages.items()
        ],
    }
