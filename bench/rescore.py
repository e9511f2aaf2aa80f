"""Benchmark: re-score N open opportunities with a newly activated scoring model.

    python bench/rescore.py [--n 100000] [--batch 2000] [--worker]

Creates a throw-away test database on the server DATABASE_URL names (Django's test-database
machinery, so the development data is never touched), loads N open opportunities, each with
a current score made by model v1, activates a v2 through the real service, then times the
re-scoring run: in this process (what the Celery task runs), or with ``--worker`` through the
outbox and a real in-process Celery worker on the configured broker. Memory is sampled after
every batch (resident set size and Python's own allocations) to show it stays flat.

Target (issue 5): 100,000 opportunities in under 60 s, memory flat.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synergy_portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from opportunities import scoring  # noqa: E402
from opportunities.models import Opportunity, RescoreRun, Score, ScoringModel, Status  # noqa: E402
from opportunities.services import rescoring  # noqa: E402
from synergy_portal.models import Role, User  # noqa: E402
from synergy_portal.services import user_set_roles  # noqa: E402

LOAD_CHUNK = 5000


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1_048_576


def skip_history(tables: list[str]) -> None:
    """Generated rows are nobody's action: skip the audit triggers for this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = ANY(%s::regclass[]) AND NOT t.tgisinternal "
            "AND p.prosrc LIKE %s",
            [tables, "%_pgh_attach_context()%"],
        )
        names = [row[0] for row in cursor.fetchall()]
        if names:
            cursor.execute(
                "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"]
            )


def load(n: int, model: ScoringModel, submitter: User, seed: int = 5) -> None:
    """N open opportunities, each with a current agreed score from ``model``."""
    rng = random.Random(seed)
    now = timezone.now()
    risks, confidences = list(scoring.RISK_CLASSES), list(scoring.CONFIDENCE_LEVELS)
    for start in range(0, n, LOAD_CHUNK):
        size = min(LOAD_CHUNK, n - start)
        with transaction.atomic():
            skip_history(["opportunities_opportunity", "opportunities_score"])
            opps = Opportunity.objects.bulk_create(
                Opportunity(
                    reference=f"B-{start + i:07d}",
                    title=f"Bench opportunity {start + i}",
                    problem="Generated for the re-scoring benchmark.",
                    status=rng.choice(
                        [Status.SUBMITTED, Status.TRIAGE, Status.ASSESSING, Status.BACKLOG]
                    ),
                    submitter=submitter,
                    submitted_at=now,
                    people_affected=rng.randint(1, 2000),
                    frequency_per_week=rng.randint(1, 20),
                    minutes_per_occurrence=rng.randint(1, 60),
                )
                for i in range(size)
            )
            scores = []
            for opp in opps:
                inputs = scoring.ScoreInputs(
                    people=opp.people_affected,
                    frequency_per_week=float(opp.frequency_per_week),
                    minutes=float(opp.minutes_per_occurrence),
                    severity=rng.randint(1, 5),
                    risk_class=rng.choice(risks),
                    themes=rng.randint(0, 4),
                    supporters=rng.randint(0, 50),
                    effort_days=float(rng.choice([0.5, 1, 2, 3, 4, 8, 15])),
                    confidence=rng.choice(confidences),
                    hourly_cost=float(rng.choice([24.5, 32, 38.5])),
                )
                result = scoring.score(inputs, model.weights, model.parameters)
                sources = dict.fromkeys(("people", "frequency_per_week", "minutes"), "submission")
                scores.append(
                    Score(
                        opportunity=opp,
                        model=model,
                        kind=Score.Kind.AGREED,
                        inputs={**inputs.__dict__, "sources": sources, "override_reason": ""},
                        breakdown=result.breakdown(),
                        hours_per_year=result.hours_per_year,
                        cost_per_year=result.cost_per_year,
                        impact=result.impact,
                        priority=result.priority,
                        effort_days=result.effort_days,
                        fits_two_speed=result.fits_two_speed,
                        is_current=True,
                        created_at=now,
                    )
                )
            Score.objects.bulk_create(scores)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE opportunities_opportunity o SET current_score_id = s.id, "
                    "current_priority = s.priority FROM opportunities_score s "
                    "WHERE s.opportunity_id = o.id AND s.is_current AND o.id = ANY(%s)",
                    [[o.pk for o in opps]],
                )
        print(f"  loaded {start + size:,}/{n:,}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE opportunities_opportunity; ANALYZE opportunities_score")


def run_in_process(run_id: int, batch: int, trace: bool) -> dict:  # type: ignore[type-arg]
    """The loop the Celery task runs, batch by batch, sampling time and memory."""
    times, rss = [], [rss_mb()]
    if trace:  # Python's own allocations too (tracemalloc slows the run down a lot)
        tracemalloc.start()
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        outcome = rescoring.rescore_batch(run_id=run_id, batch_size=batch)
        times.append(time.perf_counter() - t0)
        rss.append(rss_mb())
        if outcome.state != "more":
            break
    total = time.perf_counter() - started
    peak = 0
    if trace:
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "total": total,
        "batch_times": times[:-1],
        "rss": rss,
        "py_peak": peak,
    }


def run_with_worker(run_id: int) -> dict:  # type: ignore[type-arg]
    from celery.contrib.testing.worker import start_worker

    from synergy_portal.celery import app
    from synergy_portal.outbox import outbox_sweep

    started = time.perf_counter()
    outbox_sweep(resend_after=timedelta(0))
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING"):
        while RescoreRun.objects.get(pk=run_id).state == RescoreRun.State.RUNNING:
            time.sleep(0.2)
    return {"total": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=rescoring.BATCH_SIZE)
    parser.add_argument(
        "--worker", action="store_true", help="through the outbox and a real Celery worker"
    )
    parser.add_argument(
        "--trace-python", action="store_true", help="also trace Python allocations (slower)"
    )
    args = parser.parse_args()

    print(
        f"Creating a throw-away test database on {connection.settings_dict['HOST'] or 'a socket'}..."
    )
    config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        admin = User.objects.create(username="bench-admin", display_name="Bench Admin")
        user_set_roles(user=admin, roles={Role.ADMIN})
        v1 = ScoringModel.objects.create(
            version=1,
            name="v1",
            weights=scoring.DEFAULT_WEIGHTS,
            parameters=scoring.DEFAULT_PARAMETERS,
            is_active=True,
        )
        t0 = time.perf_counter()
        load(args.n, v1, admin)
        print(f"Loaded {args.n:,} scored open opportunities in {time.perf_counter() - t0:.1f} s")

        v2 = rescoring.scoring_model_create(
            actor=admin,
            name="v2",
            parameters=scoring.DEFAULT_PARAMETERS,
            weights={
                **scoring.DEFAULT_WEIGHTS,
                "risk": {**scoring.RISK_CLASSES, "safeguarding": 3.0},
            },
        )
        if not args.worker:
            # Nothing is listening in this process: keep the outbox's hand-off off the broker.
            from synergy_portal.celery import app

            app.conf.broker_url = "redis://127.0.0.1:9/0"
        run = rescoring.scoring_model_activate(actor=admin, model_id=v2.pk)
        figures = (
            run_with_worker(run.pk)
            if args.worker
            else run_in_process(run.pk, args.batch, args.trace_python)
        )
        run.refresh_from_db()
        assert run.state == RescoreRun.State.DONE, run.state
        assert run.applied == args.n, (run.applied, args.n)
        assert not Opportunity.objects.exclude(current_score__model=v2).exists()

        total = figures["total"]
        print(
            f"\nRe-scored {run.applied:,} opportunities in {total:.1f} s "
            f"({run.applied / total:,.0f} a second), {run.batches} batches of {args.batch:,}"
        )
        if "batch_times" in figures:
            bt = figures["batch_times"]
            print(
                f"  batches (each its own transaction): median {statistics.median(bt) * 1000:.0f}"
                f" ms, max {max(bt) * 1000:.0f} ms"
            )
            rss = figures["rss"]
            tenth = max(1, len(rss) // 10)
            samples = ", ".join(f"{v:.0f}" for v in rss[::tenth])
            print(
                f"  resident memory (MB) across the run: {samples}; "
                f"growth from the first batch to the last {rss[-1] - rss[1]:+.1f} MB"
            )
            if figures["py_peak"]:
                print(f"  Python allocations peak: {figures['py_peak'] / 1_048_576:.1f} MB")
        print(f"Target: under 60 s -> {'met' if total < 60 else 'NOT met'}")
    finally:
        connection.close()
        teardown_databases(config, verbosity=0)


if __name__ == "__main__":
    main()
