"""``manage.py run_extract [--full] [--since WATERMARK|DATE|DATETIME|BATCH_ID] [--no-files]
[--no-aggregates]``."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reporting.services.extract import ExtractBusyError, Since, extract_run

logger = logging.getLogger(__name__)


def parse_since(value: str) -> Since:
    """A transaction id watermark, an ISO date or date-time, or the id of an earlier batch."""
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(
            "--since takes a watermark (transaction id), a date, a date-time or a batch id."
        ) from exc


class Command(BaseCommand):
    help = (
        "Run a DDI extract batch now: the changes since the last batch (default) or a full "
        "rebuild, with its CSV, Parquet and datapackage.json files; then the dashboards' "
        "aggregates, as the worker builds them after each batch."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="Rebuild everything.")
        parser.add_argument(
            "--since",
            type=parse_since,
            default=None,
            help="Start the window here instead of at the last batch's watermark.",
        )
        parser.add_argument(
            "--no-files", action="store_true", help="Update the schema only (a refresh)."
        )
        parser.add_argument(
            "--as-of", type=date.fromisoformat, default=None, help="Last day of the daily snapshot."
        )
        parser.add_argument(
            "--no-aggregates",
            action="store_true",
            help="Leave the dashboards' aggregates to the worker.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            batch = extract_run(
                full=options["full"],
                since=options["since"],
                files=not options["no_files"],
                as_of=options["as_of"],
                trigger="command",
            )
        except ExtractBusyError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:
            raise CommandError(f"The extract failed (batch marked failed): {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Batch {batch.batch_id} ({batch.kind}) succeeded in "
                f"{batch.timings.get('total', 0):.1f} s; window "
                f"[{batch.watermark_from}, {batch.watermark_to})."
            )
        )
        self.stdout.write(json.dumps(batch.rows, sort_keys=True))
        if batch.files_path:
            self.stdout.write(f"Files: {batch.files_path}")
        if not options["no_aggregates"]:
            self._aggregates()

    def _aggregates(self) -> None:
        from reporting.dashboards.aggregates import aggregates_build

        try:
            built = aggregates_build()
        except Exception:
            # The batch stands; the dashboards read the ddi tables until a build succeeds.
            logger.exception("The dashboards' aggregates could not be built")
            self.stdout.write(self.style.WARNING("Dashboard aggregates not built (see the log)."))
            return
        if built is not None:
            self.stdout.write(f"Dashboard aggregates built in {built.seconds:.1f} s.")
