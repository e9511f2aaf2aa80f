"""``manage.py ddi_data_dictionary [--check] [--output PATH]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reporting.services.dictionary import data_dictionary_markdown, dictionary_path

STALE = (
    "{path} is stale: the reporting models changed. Run `python manage.py ddi_data_dictionary` "
    "and commit the result."
)


class Command(BaseCommand):
    help = "Write the DDI data dictionary (docs/ddi-data-dictionary.md) from the models."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="Fail if the file is missing or out of date."
        )
        parser.add_argument("--output", type=Path, default=None, help="Where to write it.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["output"] or dictionary_path()
        text = data_dictionary_markdown()
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.is_file() else None
            if current != text:
                raise CommandError(STALE.format(path=path))
            self.stdout.write(self.style.SUCCESS(f"{path} is up to date."))
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"Wrote {path}."))
