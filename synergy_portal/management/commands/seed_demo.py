"""``manage.py seed_demo [--opportunities N] [--seed S] [--today YYYY-MM-DD]``."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from synergy_portal.demo_seed import demo_seed


class Command(BaseCommand):
    help = (
        "Create a believable demo force (departments, roles, applications, journeys, demo "
        "people) and top its opportunities up to N. Safe to run again: creates no duplicates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--opportunities", type=int, default=300, metavar="N")
        parser.add_argument("--seed", type=int, default=42, metavar="S")
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            metavar="YYYY-MM-DD",
            help="The demo's 'today' on a first run (default: today; later runs reuse it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["opportunities"] < 0:
            raise CommandError("--opportunities must be 0 or more.")
        summary = demo_seed(
            opportunities=options["opportunities"],
            seed=options["seed"],
            today=options["today"],
            log=self.stdout.write,
        )
        for line in summary.lines():
            self.stdout.write(self.style.SUCCESS(line))
