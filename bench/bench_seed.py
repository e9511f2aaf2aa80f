"""Seeding speed: top the demo data up to the scale and report rows per second.

Scales accumulate, so at 100,000 after 10,000 this times the 90,000 added. Already at the
scale (a re-run without ``--fresh``), nothing is created and no rate is reported.
"""

from __future__ import annotations

import os
from typing import Any

NAME = "seed"


def run(scale: int) -> dict[str, Any]:
    from opportunities.models import Opportunity
    from synergy_portal.demo_seed import demo_seed

    summary = demo_seed(opportunities=scale, seed=int(os.environ.get("SYNERGY_BENCH_SEED", "42")))
    rows = summary.rows_written
    load = summary.load_seconds
    figures: dict[str, Any] = {
        "opportunities_total": Opportunity.objects.count(),
        "created": summary.created,
        "already_there": summary.existing,
        "rows_written": rows,
        "rows_by_table": summary.rows,
        "seconds_total": round(summary.seconds, 2),
        "seconds_loading": round(load, 2),
        "opportunities_per_s": round(summary.created / load, 1) if summary.created else None,
        "rows_per_s": round(rows / load) if summary.created else None,
    }
    figures["summary"] = (
        [
            f"{summary.created:,} opportunities, {rows:,} rows in {summary.seconds:.1f} s "
            f"({figures['opportunities_per_s']:,} opportunities/s, {figures['rows_per_s']:,} rows/s)"
        ]
        if summary.created
        else [f"already at {summary.total:,} opportunities: nothing to time (use --fresh)"]
    )
    return figures
