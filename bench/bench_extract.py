"""DDI extract speed: a full batch, bare COPY baselines, and an incremental batch after 1% of
the opportunities change.

Each extract runs in a child process of its own, so its peak memory (VmHWM) is the
extract's and not the seeding's. Figures:

- **full**: seconds per step, rows written to ``ddi`` per second, bytes of files, peak MB;
- **baseline**: the same work done by bare server-side COPYs and nothing else: the portal rows
  the extract reads (``COPY (SELECT * FROM <table>) TO STDOUT``, discarded) and the ``ddi``
  rows it writes (``COPY <table> TO STDOUT``, discarded); ``ratio`` = extract seconds ÷
  baseline seconds;
- **incremental**: 1% of the opportunities that left draft change (title, plus a support on
  a tenth of them), then a batch with files;
- **refresh**: a dashboard refresh with nothing changed (the fixed cost of the 15-minute run).

Run through the harness (``bench/run.py --only extract``) or directly as a child:
``python bench/bench_extract.py full|incremental|refresh|baseline EXTRACT_DIR``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NAME = "extract"
ROOT = Path(__file__).resolve().parent.parent
PORTAL_TABLES = (
    "opportunities_opportunity",
    "opportunities_statuschange",
    "opportunities_support",
    "opportunities_benefit",
    "opportunities_score",
    "opportunities_opportunity_dna_themes",
    "opportunities_opportunity_applications",
    "synergy_portal_user",
)


def _peak_mb() -> float:
    """This process's peak resident memory. Read from VmHWM, not ``ru_maxrss``: Linux carries
    ``ru_maxrss`` over from the parent across fork and exec, so a child would report the
    harness's own peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child(step: str, extract_dir: str) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings

    settings.EXTRACT_DIR = Path(extract_dir)
    if step == "baseline":
        return _baseline()
    from reporting.services.extract import extract_run

    started = time.perf_counter()
    batch = {
        "full": lambda: extract_run(full=True, trigger="bench"),
        "incremental": lambda: extract_run(trigger="bench"),
        "refresh": lambda: extract_run(files=False, trigger="bench"),
    }[step]()
    seconds = time.perf_counter() - started
    written = sum(v for k, v in batch.rows.items() if k != "touched_opportunities")
    folder = Path(extract_dir) / batch.files_path if batch.files_path else None
    files_bytes = sum(p.stat().st_size for p in folder.iterdir()) if folder else 0
    return {
        "seconds": round(seconds, 2),
        "timings": batch.timings,
        "rows_written": written,
        "rows_per_s": round(written / seconds) if seconds else None,
        "touched_opportunities": batch.rows.get("touched_opportunities"),
        "rows": batch.rows,
        "files": len(batch.checksums),
        "files_mb": round(files_bytes / 1e6, 1),
        "peak_mb": _peak_mb(),
    }


def _copy_seconds(cursor: Any, query: str) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    with cursor.copy(query) as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def _baseline() -> dict[str, Any]:
    from django.db import connections

    from reporting.services.tables import reporting_tables

    portal = connections["default"].cursor().cursor
    ddi = connections["reporting"].cursor().cursor
    read = [_copy_seconds(portal, f"COPY (SELECT * FROM {t}) TO STDOUT") for t in PORTAL_TABLES]
    tables = [t.name for t in reporting_tables()]
    written = [_copy_seconds(ddi, f"COPY {t} TO STDOUT") for t in tables]
    ddi.execute(" + ".join(f"(SELECT count(*) FROM {t})" for t in tables).join(("SELECT ", "")))
    return {
        "portal_read_seconds": round(sum(s for s, _ in read), 2),
        "portal_read_mb": round(sum(b for _, b in read) / 1e6, 1),
        "ddi_copy_seconds": round(sum(s for s, _ in written), 2),
        "ddi_copy_mb": round(sum(b for _, b in written) / 1e6, 1),
        "ddi_rows": int(ddi.fetchone()[0]),
        "peak_mb": _peak_mb(),
    }


def _spawn(step: str, extract_dir: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, __file__, step, extract_dir],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"extract bench step {step} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _change_one_percent() -> int:
    """Retitle 1% of the opportunities that left draft, and add a support to a tenth of
    those; then wait until the changes are below every new snapshot's bound."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """UPDATE opportunities_opportunity SET title = left(title, 100) || ' (bench)'
               WHERE status <> 'draft' AND id % 100 = 0"""
        )
        changed = cursor.rowcount
        cursor.execute(
            """INSERT INTO opportunities_support (opportunity_id, user_id, created_at)
               SELECT o.id, u.id, now() FROM opportunities_opportunity o
               CROSS JOIN LATERAL (
                   SELECT id FROM synergy_portal_user u
                   WHERE NOT EXISTS (SELECT 1 FROM opportunities_support s
                                     WHERE s.opportunity_id = o.id AND s.user_id = u.id)
                   ORDER BY id LIMIT 1) u
               WHERE o.status <> 'draft' AND o.id % 1000 = 0"""
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        mine = cursor.fetchone()[0]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] > mine:
                break
            time.sleep(0.1)
    return changed


def run(scale: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ddi-bench-") as extract_dir:
        full = _spawn("full", extract_dir)
        baseline = _spawn("baseline", extract_dir)
        changed = _change_one_percent()
        incremental = _spawn("incremental", extract_dir)
        refresh = _spawn("refresh", extract_dir)
    copy_seconds = baseline["portal_read_seconds"] + baseline["ddi_copy_seconds"]
    ratio = round(full["seconds"] / copy_seconds, 1) if copy_seconds else None
    return {
        "full": full,
        "baseline": baseline,
        "ratio_full_to_bare_copy": ratio,
        "changed_opportunities": changed,
        "incremental": incremental,
        "refresh_nothing_changed": refresh,
        "summary": [
            f"full: {full['rows_written']:,} rows in {full['seconds']} s "
            f"({full['rows_per_s']:,} rows/s), {full['files']} files {full['files_mb']} MB, "
            f"peak {full['peak_mb']} MB; steps {full['timings']}",
            f"bare COPY of the same rows: read {baseline['portal_read_seconds']} s + write-side "
            f"{baseline['ddi_copy_seconds']} s; full extract = {ratio}x",
            f"incremental after {changed:,} changed: {incremental['touched_opportunities']:,} "
            f"touched, {incremental['rows_written']:,} rows in {incremental['seconds']} s, "
            f"peak {incremental['peak_mb']} MB; steps {incremental['timings']}",
            f"refresh with nothing changed: {refresh['seconds']} s",
        ],
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synergy_portal.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    print(json.dumps(_child(sys.argv[1], sys.argv[2]), default=str))
