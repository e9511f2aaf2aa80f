"""A believable demo force, from ten to a hundred thousand opportunities, fast and repeatably.

``demo_seed(opportunities=N, seed=S)`` makes sure the reference data, the demo users and the
pool of demo people exist (idempotent, by natural key), then tops the seed's opportunities up
to ``N``. Opportunity ``i`` is generated from ``(S, i)`` alone, so topping 60 up to 120 gives
the same data as seeding 120 at once, and a second run with the same arguments creates nothing.

Dates are relative to an *anchor*, the demo's "today": a first run uses today's date (or
``today=``); it is recorded on each demo opportunity's first status-change row, and later
runs reuse the recorded anchor so top-ups match what is there. The same seed and anchor give
the same titles, statuses, references and dates in any empty database; only ids differ.

The opportunities are loaded in one transaction (all or nothing). Seeding notifies nobody (no
outbox rows) and writes no per-row audit-history events: generated rows are nobody's action.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from opportunities.models import StatusChange
from synergy_portal.demo_seed import writer
from synergy_portal.demo_seed.planner import Planner, marker_anchor, marker_index, marker_prefix
from synergy_portal.demo_seed.reference import (
    PEOPLE,
    Force,
    force_load,
    people_ensure,
    reference_data_ensure,
)

CHUNK = 5000


@dataclass
class SeedSummary:
    seed: int
    anchor: date
    requested: int
    existing: int
    created: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    carried_supports: int = 0
    reference: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    load_seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.existing + self.created

    @property
    def rows_written(self) -> int:
        return sum(self.rows.values()) + self.carried_supports

    def lines(self) -> list[str]:
        rows = ", ".join(f"{n:,} {table.split('_', 1)[1]}" for table, n in self.rows.items())
        reference = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in self.reference.items())
        rate = self.rows_written / self.load_seconds if self.load_seconds else 0.0
        return [
            f"Seed {self.seed}, as of {self.anchor.isoformat()}: {self.total:,} demo "
            f"opportunities ({self.existing:,} already there, {self.created:,} created).",
            f"Reference data: {reference}.",
            f"Rows: {rows or 'none'}; {self.carried_supports:,} supports carried over by merges.",
            f"Took {self.seconds:.1f} s (opportunities {self.load_seconds:.1f} s, "
            f"{rate:,.0f} rows/s).",
        ]


def seeded_opportunities(*, seed: int) -> dict[int, int]:
    """The opportunities ``seed`` created: index -> id."""
    rows = StatusChange.objects.filter(
        from_status="", reason__startswith=marker_prefix(seed)
    ).values_list("reason", "opportunity_id")
    return {marker_index(reason): pk for reason, pk in rows}


def _recorded_anchor(prefix: str) -> date | None:
    reason = (
        StatusChange.objects.filter(from_status="", reason__startswith=prefix)
        .order_by("id")
        .values_list("reason", flat=True)
        .first()
    )
    return marker_anchor(reason) if reason else None


def _anchor(*, seed: int, today: date | None) -> date:
    """This seed's recorded anchor, else ``today``, else any seed's, else today's date."""
    return (
        _recorded_anchor(marker_prefix(seed))
        or today
        or _recorded_anchor(marker_prefix())
        or timezone.localdate()
    )


@transaction.atomic
def _load(
    *,
    planner: Planner,
    force: Force,
    existing: dict[int, int],
    start: int,
    stop: int,
    say: Callable[[str], None],
    summary: SeedSummary,
) -> None:
    began = time.perf_counter()
    chunks = [range(i, min(i + CHUNK, stop)) for i in range(start, stop, CHUNK)]
    allocation: Future[writer.Allocation] = Future()

    def build(indexes: range) -> writer.Rows:
        plans = [planner.plan(index) for index in indexes]
        return writer.rows_build(
            plans, seed=planner.seed, force=force, allocation=allocation.result()
        )

    # Planning is pure Python, so a worker thread plans the next chunk while PostgreSQL
    # loads the current one (psycopg releases the GIL while it waits): both cores work.
    with ThreadPoolExecutor(max_workers=1) as pool:
        upcoming = pool.submit(build, chunks[0])
        try:
            heads = [planner.head(index) for index in range(start, stop)]
            allocation.set_result(writer.allocate(heads, existing))
        except BaseException as exc:
            allocation.set_exception(exc)
            raise
        writer.load_begin()
        say(f"  ids and references allocated ({time.perf_counter() - began:.1f} s)")
        for number, chunk in enumerate(chunks):
            rows = upcoming.result()
            if number + 1 < len(chunks):
                upcoming = pool.submit(build, chunks[number + 1])
            writer.rows_copy(rows)
            for table, count in writer.counts(rows).items():
                summary.rows[table] = summary.rows.get(table, 0) + count
            say(
                f"  {chunk.stop - start:,}/{stop - start:,} opportunities "
                f"({time.perf_counter() - began:.1f} s)"
            )
    summary.carried_supports = writer.load_finish()
    summary.created = stop - start
    say(f"  merged duplicates' supporters carried over ({time.perf_counter() - began:.1f} s)")


def demo_seed(
    *,
    opportunities: int = 300,
    seed: int = 42,
    today: date | None = None,
    people: int = PEOPLE,
    log: Callable[[str], None] | None = None,
    analyze: bool = True,
) -> SeedSummary:
    """Make sure the demo force exists and seed ``seed`` has ``opportunities`` opportunities."""
    started = time.perf_counter()
    say = log or (lambda message: None)
    reference = reference_data_ensure()
    reference.update(people_ensure(count=people))
    anchor = _anchor(seed=seed, today=today)
    if today and anchor != today:
        say(f"Seed {seed} already has data as of {anchor.isoformat()}: keeping that date.")
    force = force_load(anchor=anchor)
    reference["delivery_cycles"] = len(force.cycles)
    existing = seeded_opportunities(seed=seed)
    start = max(existing, default=-1) + 1  # deleted ones are not made again
    summary = SeedSummary(
        seed=seed,
        anchor=anchor,
        requested=opportunities,
        existing=len(existing),
        reference=reference,
    )
    if start < opportunities:
        say(f"Creating {opportunities - start:,} opportunities ({len(existing):,} there)...")
        load_started = time.perf_counter()
        planner = Planner(seed=seed, anchor=anchor, force=force)
        _load(
            planner=planner,
            force=force,
            existing=existing,
            start=start,
            stop=opportunities,
            say=say,
            summary=summary,
        )
        if analyze:
            # Fresh statistics, so the first pages after a big load get sensible plans.
            analyzing = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE " + ", ".join(writer.TABLES))
            say(f"  statistics updated ({time.perf_counter() - analyzing:.1f} s)")
        summary.load_seconds = time.perf_counter() - load_started
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["SeedSummary", "demo_seed", "seeded_opportunities"]
