"""A batch's files: one CSV (UTF-8, RFC 4180) and one Parquet file per table, and a
Frictionless Data Package ``datapackage.json`` describing them, written last.

Rows stream from the reporting database with ``COPY (SELECT …) TO STDOUT`` straight into
Arrow's CSV reader, and each record batch is written to both files, so memory stays flat
however large the table. Everything is written into a temporary folder that is renamed into
place (``EXTRACT_DIR/<date>/<batch id>/``) only when complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from django.conf import settings
from django.utils import timezone

from reporting.services.tables import Table

DATAPACKAGE = "datapackage.json"
TMP_PREFIX = ".tmp-"
BLOCK_SIZE = 1 << 20
REPLACED = "replaced_opportunities"


def extract_dir() -> Path:
    default = Path(settings.BASE_DIR) / ".data" / "extracts"
    return Path(getattr(settings, "EXTRACT_DIR", default))


def retention_days() -> int:
    return int(getattr(settings, "REPORTING_EXTRACT_RETENTION_DAYS", 30))


class _CopyReader(io.RawIOBase):
    """A file-like view of a psycopg ``COPY … TO STDOUT`` stream, for Arrow's CSV reader."""

    def __init__(self, copy: Any) -> None:
        self._blocks: Iterator[bytes] = iter(copy)
        self._pending = b""

    def is_empty(self) -> bool:
        """Whether the stream has no rows at all (Arrow refuses an empty CSV)."""
        if not self._pending:
            self._pending = bytes(next(self._blocks, b""))
        return not self._pending

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # psycopg yields a COPY stream row by row: gather rows until Arrow's buffer is full
        # (one join per buffer), or Arrow would make a record batch per row.
        view = memoryview(buffer).cast("B")
        wanted = len(view)
        parts, size = [self._pending], len(self._pending)
        for block in self._blocks:
            parts.append(block)
            size += len(block)
            if size >= wanted:
                break
        data = b"".join(parts)
        count = min(wanted, len(data))
        view[:count] = data[:count]
        self._pending = data[count:]
        return count


@dataclass
class WrittenResource:
    name: str
    path: str
    format: str
    rows: int
    bytes: int
    sha256: str
    table_schema: dict[str, Any] | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def descriptor(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "name": self.name,
            "path": self.path,
            "format": self.format,
            "bytes": self.bytes,
            "hash": f"sha256:{self.sha256}",
        }
        if self.format == "csv":
            item.update(
                {
                    "mediatype": "text/csv",
                    "encoding": "utf-8",
                    "rows": self.rows,
                    "dialect": {"csv": {"delimiter": ",", "lineTerminator": "\r\n"}},
                    "schema": self.table_schema,
                }
            )
        else:
            # Described as a plain file: the same rows and columns as the CSV resource.
            item.update(
                {
                    "type": "file",
                    "mediatype": "application/vnd.apache.parquet",
                    "synergy:rows": self.rows,
                }
            )
        if self.description:
            item["description"] = self.description
        item.update(self.extra)
        return item


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(BLOCK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_table(
    cursor: Any,
    *,
    folder: Path,
    name: str,
    columns: Sequence[str],
    schema: pa.Schema,
    query: str,
    params: Sequence[Any] | dict[str, Any] | None = None,
    table_schema: dict[str, Any],
    description: str = "",
) -> list[WrittenResource]:
    """Stream ``query`` (its columns in ``schema``'s order) into ``name``.csv and .parquet."""
    csv_path, parquet_path = folder / f"{name}.csv", folder / f"{name}.parquet"
    read_options = pa_csv.ReadOptions(
        column_names=list(columns), use_threads=False, block_size=BLOCK_SIZE
    )
    convert_options = pa_csv.ConvertOptions(
        column_types=schema,
        true_values=["t"],
        false_values=["f"],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        null_values=[""],
    )
    parse_options = pa_csv.ParseOptions(newlines_in_values=True)
    write_options = pa_csv.WriteOptions(include_header=True, quoting_style="needed", eol="\r\n")
    rows = 0
    with (
        cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", params) as copy,
        pa_csv.CSVWriter(str(csv_path), schema, write_options=write_options) as csv_writer,
        pq.ParquetWriter(str(parquet_path), schema, compression="snappy") as parquet_writer,
    ):
        source = _CopyReader(copy)
        batches = (
            []
            if source.is_empty()
            else pa_csv.open_csv(
                source,
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
        )
        for record_batch in batches:
            record_batch = record_batch.cast(schema)
            rows += record_batch.num_rows
            csv_writer.write_batch(record_batch)
            parquet_writer.write_batch(record_batch)
    return [
        WrittenResource(
            name=name,
            path=csv_path.name,
            format="csv",
            rows=rows,
            bytes=csv_path.stat().st_size,
            sha256=_sha256(csv_path),
            table_schema=table_schema,
            description=description,
        ),
        WrittenResource(
            name=f"{name}-parquet",
            path=parquet_path.name,
            format="parquet",
            rows=rows,
            bytes=parquet_path.stat().st_size,
            sha256=_sha256(parquet_path),
            description=description,
        ),
    ]


def export_query(table: Table, *, batch_ids: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    """The rows of ``table`` that belong in a package: all of them, or those written by
    ``batch_ids``; ordered by primary key so a package's files are reproducible."""
    where = "" if batch_ids is None else "WHERE batch_id = ANY(%(batches)s::uuid[])"
    query = (
        f"SELECT {', '.join(table.column_names)} FROM {table.name} {where} "
        f"ORDER BY {', '.join(table.primary_key)}"
    )
    return query, {"batches": list(batch_ids or [])}


def replaced_arrow_schema() -> pa.Schema:
    """The columns of the ``replaced_opportunities`` files (see :func:`replaced_table_schema`)."""
    return pa.schema(
        [
            pa.field("opportunity_id", pa.int64(), nullable=False),
            pa.field("replaces", pa.string(), nullable=False),
        ]
    )


def replaced_table_schema() -> dict[str, Any]:
    return {
        "fields": [
            {
                "name": "opportunity_id",
                "type": "integer",
                "description": "An opportunity whose rows this package replaces.",
                "constraints": {"required": True},
            },
            {
                "name": "replaces",
                "type": "string",
                "description": "all: its rows of every fact and bridge table; "
                "fact_opportunity: only its fact_opportunity row (its own attributes or its "
                "score changed, nothing else).",
                "constraints": {"required": True, "enum": ["all", "fact_opportunity"]},
            },
        ],
        "primaryKey": ["opportunity_id"],
        "missingValues": [""],
    }


def batch_folder(*, day: date, batch_id: str) -> tuple[Path, Path]:
    """(temporary folder, final folder) of a batch."""
    parent = extract_dir() / day.isoformat()
    return parent / f"{TMP_PREFIX}{batch_id}", parent / batch_id


def write_datapackage(
    folder: Path, *, resources: list[WrittenResource], metadata: dict[str, Any]
) -> Path:
    descriptor = {
        "name": f"synergy-ddi-{metadata['batch_id']}",
        "id": metadata["batch_id"],
        "title": "Synergy Portal DDI extract",
        "created": metadata["created"],
        "version": metadata["schema_version"],
        "synergy": metadata,
        "resources": [resource.descriptor() for resource in resources],
    }
    path = folder / DATAPACKAGE
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def move_into_place(tmp: Path, final: Path) -> None:
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)


def files_prune(*, now: float | None = None, days: int | None = None) -> list[Path]:
    """Delete day folders older than the retention period, and abandoned temporary folders."""
    root = extract_dir()
    if not root.is_dir():
        return []
    keep = days if days is not None else retention_days()
    cutoff = timezone.localdate() - timedelta(days=keep)
    stale_tmp = (now or time.time()) - 24 * 3600
    removed: list[Path] = []
    for day_folder in sorted(root.iterdir()):
        if not day_folder.is_dir():
            continue
        try:
            day = date.fromisoformat(day_folder.name)
        except ValueError:
            continue
        if day < cutoff:
            shutil.rmtree(day_folder, ignore_errors=True)
            removed.append(day_folder)
            continue
        for tmp in day_folder.glob(f"{TMP_PREFIX}*"):
            if tmp.stat().st_mtime < stale_tmp:
                shutil.rmtree(tmp, ignore_errors=True)
                removed.append(tmp)
    return removed


def resolve_file(*, files_path: str, name: str) -> Path | None:
    """The file ``name`` of a batch folder, or None: only names listed in its data package
    (and the package itself) are served, so no path can escape the folder."""
    folder = extract_dir() / files_path
    package = folder / DATAPACKAGE
    if not files_path or not package.is_file():
        return None
    if name == DATAPACKAGE:
        return package
    listed = {r["path"] for r in json.loads(package.read_text(encoding="utf-8"))["resources"]}
    return folder / name if name in listed and (folder / name).is_file() else None
