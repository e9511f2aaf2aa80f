"""The dashboards show the figures DDI gets: headline figures recomputed from the CSV files of
a real extract batch equal the ones on the page.

The portal's data is written by the extract tests' own force (tests/reporting/factories.py),
the extract runs for real (files included), and the figures are worked out again here from
the batch's CSV files alone, as a DDI analyst would.
"""

from __future__ import annotations

import csv
import statistics
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from reporting.dashboards.charts import Kind, display, rounded
from synergy_portal.models import Role
from tests.reporting.factories import build_force, run
from tests.reporting.test_dashboards_views import page_tables
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])


def read(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def money(rows: list[dict[str, str]], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows if r[column]), Decimal(0))


@pytest.fixture(params=["ddi", "aggregates"])
def extracted(request: Any, settings: Any) -> tuple[Path, Client]:
    """A real extract batch with files; the dashboards read it from the ddi tables, or from
    the aggregates built from them after the batch (as the worker does)."""
    from reporting.dashboards.aggregates import aggregates_build

    settings.DASHBOARD_CACHE_SECONDS = 0
    build_force()
    batch = run(full=True)
    assert batch.files_path, "the extract wrote no files"
    if request.param == "aggregates":
        built = aggregates_build()
        assert built is not None and built.batch_id == str(batch.batch_id)
    client = Client()
    client.force_login(UserFactory(roles={Role.MANAGER}))
    return Path(settings.EXTRACT_DIR) / batch.files_path, client


def test_headline_figures_equal_those_computed_from_the_extract_files(
    extracted: tuple[Path, Client],
) -> None:
    folder, client = extracted
    facts = read(folder, "fact_opportunity")
    status = {r["status_key"]: r for r in read(folder, "dim_status")}
    delivered = [r for r in facts if r["delivered_date_key"]]
    days = [int(r["days_submitted_to_delivered"]) for r in delivered]
    expected = [
        display(Kind.COUNT, len(facts)),
        display(Kind.COUNT, len(delivered)),
        display(Kind.MONEY, rounded(Kind.MONEY, money(delivered, "estimated_cash_per_year"))),
        display(Kind.MONEY, rounded(Kind.MONEY, money(delivered, "realised_cash_per_year"))),
        display(Kind.HOURS, rounded(Kind.HOURS, money(delivered, "realised_hours_per_year"))),
        display(Kind.DAYS, rounded(Kind.DAYS, statistics.median(days))),
        display(Kind.COUNT, sum(1 for r in facts if status[r["status_key"]]["is_open"] == "true")),
    ]

    body = client.get("/dashboards/?period=all").content.decode()
    shown = [value for _, value in page_tables(body).lists["chart-headlines"]]

    assert shown == expected
    assert len(delivered) == 1 and shown[3] == "£2,500"


def test_states_and_realised_benefit_equal_the_extract_files(
    extracted: tuple[Path, Client],
) -> None:
    folder, client = extracted
    facts = read(folder, "fact_opportunity")
    labels = {r["status_key"]: r["label"] for r in read(folder, "dim_status")}
    counts: dict[str, int] = {}
    for row in facts:
        counts[labels[row["status_key"]]] = counts.get(labels[row["status_key"]], 0) + 1
    benefits = read(folder, "fact_benefit")

    pipeline = page_tables(client.get("/dashboards/pipeline/?period=all").content.decode())
    by_state = {label: int(n) for label, n in pipeline.tables["chart-by-state"][1:]}
    value = page_tables(client.get("/dashboards/value/?period=all").content.decode())
    last_month = value.tables["chart-cumulative-benefit"][-1]

    assert {k: v for k, v in by_state.items() if v} == counts
    assert last_month[3] == display(
        Kind.MONEY, rounded(Kind.MONEY, money(benefits, "cash_per_year"))
    )
    assert last_month[4] == display(
        Kind.HOURS, rounded(Kind.HOURS, money(benefits, "hours_per_year"))
    )
