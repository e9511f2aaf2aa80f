"""The DDI extract: ``extract_run`` brings the ``ddi`` star schema up to date and writes the
batch's files.

- **Window.** The change log (``synergy_portal.ChangeLog``) is read from the previous batch's
  watermark up to the oldest portal transaction still running when this batch's snapshot was
  taken (``pg_snapshot_xmin``). Every change below that bound is committed and visible in the
  snapshot; a transaction that commits late has a transaction id above it, so the next batch
  reads it. (A watermark on ids or times would skip it: ids and times are taken when a row is
  written, not when it commits.) Changes above the bound that the snapshot does see are simply
  applied again by the next batch, which is harmless: every step recomputes rows from the
  portal's current data.
- **All or nothing.** Everything is written in one transaction on the reporting connection;
  the batch's success is recorded in it too. On failure it rolls back, and the batch is marked
  failed in a separate transaction.
- **Never twice at once.** A session advisory lock on the reporting database; a second run is
  refused with :class:`ExtractBusyError`. A run killed mid-way releases the lock with its
  connection, and the next run marks its batch failed.
- **Deterministic.** Rows depend only on the portal's data and the window; the clock only
  stamps the batch itself (its ``as_of`` is the last day the daily-snapshot view shows).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from django.utils import timezone
from psycopg.types.json import Jsonb

from reporting.models import SCHEMA_VERSION, EtlBatch
from reporting.services import files as F
from reporting.services import load
from reporting.services import transforms as T
from reporting.services.alerts import extract_failure_alert
from reporting.services.tables import Table, reporting_tables
from synergy_portal.db.routers import REPORTING_ALIAS

logger = logging.getLogger(__name__)

PORTAL_ALIAS = "default"
# pg_try_advisory_lock key of the extract ("DDI" + "EXTR" in ASCII).
LOCK_KEY = 0x444449_45585452
MSG_BUSY = "Another DDI extract is running; this one was not started."
MSG_INTERRUPTED = "Interrupted: the process running this batch stopped before it finished."
MSG_UNKNOWN_BATCH = "No batch {since} to start from."

Since = int | date | datetime | uuid.UUID | None


class ExtractBusyError(Exception):
    pass


@dataclass(frozen=True)
class Plan:
    kind: str
    files: bool
    watermark_from: int | None
    since: Since
    as_of: date
    earlier_batches: tuple[str, ...]

    @property
    def full(self) -> bool:
        return self.kind == EtlBatch.Kind.FULL


def _date_range() -> tuple[date, date]:
    first, last = getattr(settings, "REPORTING_DIM_DATE_RANGE", ("2015-01-01", "2040-12-31"))
    return date.fromisoformat(first), date.fromisoformat(last)


def _tz() -> str:
    return str(settings.TIME_ZONE)


def _plan(*, full: bool, since: Since, files: bool, as_of: date | None) -> Plan:
    done = EtlBatch.objects.filter(state=EtlBatch.State.SUCCEEDED)
    last = done.first()
    with_files = EtlBatch.Kind.FULL, EtlBatch.Kind.INCREMENTAL
    last_files = done.filter(kind__in=with_files).exclude(files_path="").first()
    # A new schema version (new columns, new tables) needs every row rebuilt: the rows an
    # incremental batch leaves alone were written by the old code. A package is full too when
    # DDI's last package is in another layout, or when a full rebuild without files ran since
    # it (its rows all carry a newer batch: an "incremental" package would hold them all).
    package_needs_full = (
        files
        and since is None
        and (
            last_files is None
            or last_files.schema_version != SCHEMA_VERSION
            or done.filter(kind=EtlBatch.Kind.FULL, started_at__gt=last_files.started_at).exists()
        )
    )
    full = full or last is None or last.schema_version != SCHEMA_VERSION or package_needs_full
    kind = (
        EtlBatch.Kind.FULL
        if full
        else EtlBatch.Kind.INCREMENTAL
        if files
        else EtlBatch.Kind.REFRESH
    )
    earlier: tuple[str, ...] = ()
    watermark_from = None
    if not full:
        # A batch with files covers everything since the previous batch with files, so
        # DDI misses nothing that dashboard refreshes applied in between.
        base = last_files if files and last_files else last
        watermark_from = base.watermark_to
        if files and last_files:
            earlier = tuple(
                str(b)
                for b in done.filter(started_at__gt=last_files.started_at).values_list(
                    "batch_id", flat=True
                )
            )
    return Plan(
        kind=kind,
        files=files,
        watermark_from=watermark_from,
        since=None if full else since,
        as_of=as_of or timezone.localdate(),
        earlier_batches=earlier,
    )


def _since_watermark(portal: Any, since: Since, default: int | None, high: int) -> int:
    if since is None:
        return default if default is not None else high
    if isinstance(since, int):
        return since
    if isinstance(since, uuid.UUID):
        batch = EtlBatch.objects.filter(pk=since).first()
        if batch is None or batch.watermark_to is None:
            raise ValueError(MSG_UNKNOWN_BATCH.format(since=since))
        return batch.watermark_from if batch.watermark_from is not None else 0
    moment = since if isinstance(since, datetime) else datetime.combine(since, datetime.min.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    portal.execute(
        "SELECT min(txid) FROM synergy_portal_changelog WHERE changed_at >= %s", [moment]
    )
    found = portal.fetchone()[0]
    return int(found) if found is not None else high


def _session_tune(cursor: Any) -> None:
    """Settings for the batch's transaction only. JIT is off: compiling each of a batch's few
    dozen statements costs more than it saves. Sorts, hash aggregates and index builds get
    room to run in memory (the server defaults, 4 MB and 64 MB, spill a full batch to disk).
    """
    cursor.execute("SET LOCAL jit = off")
    # The portal's and the schema's working sets stay in memory (or on SSD), where a random
    # read costs little more than a sequential one: with the default cost (4) the planner
    # scans a whole fact table to replace a few thousand opportunities' rows.
    cursor.execute("SET LOCAL random_page_cost = 1.1")
    cursor.execute(
        "SELECT set_config('work_mem', %s, true), set_config('maintenance_work_mem', %s, true)",
        [
            str(getattr(settings, "REPORTING_EXTRACT_WORK_MEM", "128MB")),
            str(getattr(settings, "REPORTING_EXTRACT_MAINTENANCE_WORK_MEM", "512MB")),
        ],
    )


def _open(alias: str) -> Any:
    wrapper = connections.create_connection(alias)
    wrapper.ensure_connection()
    return wrapper


def extract_run(
    *,
    full: bool = False,
    since: Since = None,
    files: bool = True,
    as_of: date | None = None,
    trigger: str = "command",
) -> EtlBatch:
    """Run one batch (full rebuild, or the changes since the last batch) and return it.

    ``since`` restarts the window at a transaction id, a time, or the start of an earlier
    batch (its id), e.g. to re-run a window. ``files=False`` is the dashboards' refresh.
    Raises :class:`ExtractBusyError` if another batch is running, and re-raises the error of
    a failed batch after recording it.
    """
    reporting = _open(REPORTING_ALIAS)
    portal = _open(PORTAL_ALIAS)
    try:
        with reporting.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                raise ExtractBusyError(MSG_BUSY)
        try:
            return _run_locked(
                portal.connection,
                reporting.connection,
                plan=_plan(full=full, since=since, files=files, as_of=as_of),
                trigger=trigger,
            )
        finally:
            # A dead connection has released its lock already; never hide the batch's error.
            with contextlib.suppress(Exception), reporting.connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    finally:
        for wrapper in (reporting, portal):
            with contextlib.suppress(Exception):
                wrapper.close()


def _run_locked(portal: Any, ddi: Any, *, plan: Plan, trigger: str) -> EtlBatch:
    EtlBatch.objects.filter(state=EtlBatch.State.RUNNING).update(
        state=EtlBatch.State.FAILED, error=MSG_INTERRUPTED, finished_at=timezone.now()
    )
    batch = EtlBatch.objects.create(
        kind=plan.kind,
        trigger=trigger[:80],
        watermark_from=plan.watermark_from,
        as_of=plan.as_of,
        schema_version=SCHEMA_VERSION,
    )
    try:
        _run(portal, ddi, batch=batch, plan=plan)
    except BaseException as exc:
        EtlBatch.objects.filter(pk=batch.pk).update(
            state=EtlBatch.State.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )
        logger.exception("DDI extract %s failed", batch.pk)
        try:
            extract_failure_alert()
        except Exception:  # noqa: BLE001 - an alert must never hide the failure itself
            logger.exception("DDI extract failure alert could not be sent")
        raise
    batch.refresh_from_db()
    if batch.files_path:
        # Once a night is enough; the 15-minute refreshes stay light.
        _prune_after(portal, batch)
    return batch


def _run(portal: Any, ddi: Any, *, batch: EtlBatch, plan: Plan) -> None:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    rows: dict[str, int] = {}
    tz = _tz()
    batch_id = str(batch.pk)

    def lap(step: str, since: float) -> float:
        now = time.perf_counter()
        timings[step] = round(now - since, 3)
        return now

    portal.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    tmp, final = F.batch_folder(day=timezone.localdate(batch.started_at), batch_id=batch_id)
    moved = False
    try:
        with ddi.transaction(), ddi.cursor() as dcur:
            with portal.transaction(), portal.cursor() as pcur:
                # The first statement takes the snapshot every later read uses.
                pcur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
                high = int(pcur.fetchone()[0])
                for cursor in (pcur, dcur):
                    _session_tune(cursor)
                low = None
                touched, dims_changed = 0, True
                if not plan.full:
                    low = _since_watermark(pcur, plan.since, plan.watermark_from, high)
                    touched, deep, dims_changed = load.touched_select(pcur, low=low, high=high)
                    rows["touched_opportunities"] = touched
                    rows["touched_with_children"] = deep
                for statement in (T.TOUCHED_TABLE, T.PERSON_MAP_TABLE, T.STATUS_TABLE):
                    dcur.execute(statement)
                if not plan.full:
                    load.touched_copy(pcur, dcur)
                first, last = _date_range()
                rows["dim_date"] = load.dim_date_ensure(
                    dcur, first=first, last=last, batch=batch_id, tz=tz
                )
                rows["dim_status"] = load.status_load(dcur, batch=batch_id)
                mark = lap("snapshot", started)
                if plan.full or dims_changed or touched:
                    load.person_map_load(pcur, dcur)
                if plan.full or dims_changed:
                    rows.update(load.dimensions_load(pcur, dcur, batch=batch_id, tz=tz))
                mark = lap("dimensions", mark)
                rebuild: list[str] = []
                if plan.full or touched:
                    load.facts_clear(dcur, full=plan.full)
                    if plan.full:
                        rebuild = load.indexes_drop(dcur, T.FACT_TABLES)
                    rows.update(
                        load.facts_load(pcur, dcur, batch=batch_id, tz=tz, scoped=not plan.full)
                    )
                mark = lap("facts", mark)
            if plan.full or touched:
                rows["fact_opportunity_status_span"] = load.spans_load(
                    dcur, batch=batch_id, full=plan.full
                )
            load.indexes_restore(dcur, rebuild)
            mark = lap("spans", mark)
            checksums: dict[str, str] = {}
            files_path = ""
            if plan.files:
                checksums = _write_files(
                    dcur,
                    tmp,
                    batch=batch,
                    plan=plan,
                    low=low,
                    high=high,
                )
                mark = lap("files", mark)
            timings["total"] = round(time.perf_counter() - started, 3)
            dcur.execute(
                """UPDATE etl_batch SET state = %s, watermark_from = %s, watermark_to = %s,
                   rows = %s, checksums = %s, timings = %s, files_path = %s, finished_at = %s
                   WHERE batch_id = %s""",
                [
                    EtlBatch.State.SUCCEEDED,
                    low,
                    high,
                    Jsonb(rows),
                    Jsonb(checksums),
                    Jsonb(timings),
                    str(final.relative_to(F.extract_dir())) if plan.files else files_path,
                    timezone.now(),
                    batch_id,
                ],
            )
            if plan.files:
                F.move_into_place(tmp, final)
                moved = True
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if moved:
            shutil.rmtree(final, ignore_errors=True)
        raise


def _write_files(
    dcur: Any,
    tmp: Any,
    *,
    batch: EtlBatch,
    plan: Plan,
    low: int | None,
    high: int,
) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    fact_batches = None if plan.full else [*plan.earlier_batches, str(batch.pk)]
    resources: list[F.WrittenResource] = []
    for table in reporting_tables():
        # Dimensions are small and always complete; facts are the rows this package adds.
        query, params = F.export_query(
            table, batch_ids=None if table.is_dimension else fact_batches
        )
        resources += _write(dcur, tmp, table, query, params)
    if not plan.full:
        resources += F.write_table(
            dcur,
            folder=tmp,
            name=F.REPLACED,
            columns=["opportunity_id", "replaces"],
            schema=F.replaced_arrow_schema(),
            query=f"""SELECT opportunity_id,
                          CASE WHEN deep THEN 'all' ELSE 'fact_opportunity' END
                      FROM {T.TOUCHED} ORDER BY opportunity_id""",
            table_schema=F.replaced_table_schema(),
            description="Opportunities whose rows this package replaces: delete their "
            "fact_opportunity row, and when `replaces` is `all` their rows of every other fact "
            "and bridge table too; then load this package's rows.",
        )
    metadata = {
        "batch_id": str(batch.pk),
        "kind": plan.kind,
        "mode": "full" if plan.full else "incremental",
        "schema_version": SCHEMA_VERSION,
        "created": timezone.now().isoformat(),
        "watermark_from": low,
        "watermark_to": high,
        "as_of": plan.as_of.isoformat(),
        "fact_batches": fact_batches,
        "dimensions": "complete",
    }
    F.write_datapackage(tmp, resources=resources, metadata=metadata)
    return {resource.path: resource.sha256 for resource in resources}


def _write(dcur: Any, tmp: Any, table: Table, query: str, params: dict[str, Any]) -> list[Any]:
    return F.write_table(
        dcur,
        folder=tmp,
        name=table.name,
        columns=table.column_names,
        schema=table.arrow_schema(),
        query=query,
        params=params,
        table_schema=table.table_schema(),
        description=table.description,
    )


def changelog_retention_days() -> int:
    return int(getattr(settings, "REPORTING_CHANGELOG_RETENTION_DAYS", 7))


def _prune_after(portal: Any, batch: EtlBatch) -> None:
    """Retention, after a successful batch: old extract folders, and change-log rows that
    every future batch's window starts above."""
    try:
        F.files_prune()
        floor = (
            EtlBatch.objects.filter(
                state=EtlBatch.State.SUCCEEDED,
                kind__in=[EtlBatch.Kind.FULL, EtlBatch.Kind.INCREMENTAL],
            )
            .values_list("watermark_to", flat=True)
            .first()
        )
        if floor is None:
            return
        cutoff = timezone.now() - timedelta(days=changelog_retention_days())
        portal.isolation_level = None
        with portal.transaction(), portal.cursor() as cursor:
            cursor.execute("SET LOCAL synergy.changelog_prune = 'on'")
            cursor.execute(
                "DELETE FROM synergy_portal_changelog WHERE txid < %s AND changed_at < %s",
                [min(floor, batch.watermark_to or floor), cutoff],
            )
    except Exception:  # noqa: BLE001 - retention is retried by the next batch
        logger.exception("DDI extract retention pruning failed")
