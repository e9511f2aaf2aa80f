"""Every dashboard figure against values worked out by hand from the fixed dataset
(tests/reporting/test_dashboards_dataset.py), and the filters' effect on them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.http import QueryDict

from reporting.dashboards.charts import Section
from reporting.dashboards.filters import DashboardFilterForm, period_dates
from reporting.dashboards.selectors import SECTIONS
from reporting.dashboards.selectors.base import (
    Context,
    batch_latest,
    filter_options,
    reporting_snapshot,
    working_days_sql,
)
from tests.reporting.test_dashboards_dataset import (
    AS_OF,
    BATCH,
    CI_STANDARD,
    CRIME,
    CUSTODY_JOURNEY,
    PERIOD,
    RESPONSE,
    build_dataset,
)

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])

D = Decimal


def section(slug: str, query: dict[str, Any] | None = None) -> Section:
    params = QueryDict(mutable=True)
    for name, value in (PERIOD if query is None else query).items():
        params[name] = str(value)
    with reporting_snapshot() as cursor:
        batch = batch_latest(cursor)
        options = filter_options(cursor)
        form = DashboardFilterForm(params, options=options, as_of=batch.as_of)
        return SECTIONS[slug].build(Context(cursor, form.filters(), options, batch))


def table(sec: Section, chart: str) -> list[tuple[Any, ...]]:
    found = sec.chart(chart)
    assert found is not None, chart
    return found.rows


@pytest.fixture(params=["ddi", "aggregates"])
def dataset(request: Any, settings: Any) -> Any:
    """The fixed dataset, read both ways: every section's statement over the ddi tables, and
    over the dashboards' aggregates built from them (schema dash)."""
    from reporting.dashboards.aggregates import aggregates_build

    settings.DASHBOARD_CACHE_SECONDS = 0
    data = build_dataset()
    if request.param == "aggregates":
        assert aggregates_build() is not None
    return data


# --- The snapshot and the batch ----------------------------------------------------------------


def test_the_latest_succeeded_batch_is_the_one_shown(dataset: Any) -> None:
    with reporting_snapshot() as cursor:
        batch = batch_latest(cursor)
    assert batch.batch_id == str(BATCH)
    assert batch.as_of == AS_OF
    assert batch.kind_label == "full rebuild"


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 6, 10), date(2026, 6, 15), 3),  # Wed → Mon: Thu, Fri, Mon
        (date(2026, 5, 1), date(2026, 6, 15), 29),  # 31 weekdays less 4 and 25 May
        (date(2026, 12, 24), date(2026, 12, 29), 1),  # Christmas, Boxing Day on the 28th
        (date(2026, 12, 29), date(2026, 12, 24), -1),
        (date(2025, 12, 31), date(2026, 1, 2), 1),  # New Year's Day
        (date(2026, 4, 2), date(2026, 4, 7), 1),  # Good Friday and Easter Monday
        (date(2026, 3, 2), date(2026, 3, 20), 14),
        (date(2026, 1, 19), date(2026, 1, 30), 9),
        (date(2026, 6, 13), date(2026, 6, 14), 0),  # Saturday → Sunday
        (date(2026, 6, 12), date(2026, 6, 12), 0),
    ],
)
def test_working_days_match_the_boards_own_count(start: date, end: date, expected: int) -> None:
    from django.db import connections

    from opportunities.services.deadlines import working_days_between

    with connections["reporting"].cursor() as cursor:
        sql = working_days_sql("%(start)s::date", "%(end)s::date")
        cursor.execute(f"SELECT {sql}", {"start": start, "end": end})
        assert cursor.fetchone()[0] == expected == working_days_between(start, end)


def test_periods_follow_the_uk_financial_year() -> None:
    assert period_dates("fq", date(2026, 6, 15)) == (date(2026, 4, 1), date(2026, 6, 15))
    assert period_dates("lfq", date(2026, 6, 15)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_dates("fy", date(2026, 2, 3)) == (date(2025, 4, 1), date(2026, 2, 3))
    assert period_dates("lfy", date(2026, 6, 15)) == (date(2025, 4, 1), date(2026, 3, 31))
    assert period_dates("12m", date(2026, 6, 15)) == (date(2025, 6, 16), date(2026, 6, 15))
    assert period_dates("lfq", date(2026, 4, 2)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_dates("lfq", date(2026, 1, 15)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert period_dates("fq", date(2026, 3, 31)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_dates("all", date(2026, 6, 15)) == (None, None)


# --- Overview ----------------------------------------------------------------------------------


def test_headline_figures(dataset: Any) -> None:
    rows = table(section("overview"), "headlines")
    # Submitted O1–O8, O10; delivered O4, O5, O11; £10,000 + £5,000 + £4,000 estimated;
    # £8,000 + £5,000 and 300 + 150 hours realised; days to delivery 66, 25, 170.
    assert rows == [(9, 3, D(19000), D(13000), D("450.0"), D("66.0"), 5)]


def test_all_time_counts_every_opportunity(dataset: Any) -> None:
    rows = table(section("overview", {"period": "all"}), "headlines")
    assert rows[0][:2] == (11, 3)


# --- Pipeline ----------------------------------------------------------------------------------


def test_pipeline_states_now(dataset: Any) -> None:
    sec = section("pipeline")
    assert table(sec, "by-state") == [
        ("Submitted", 2),
        ("In triage", 1),
        ("Being assessed", 1),
        ("In the backlog", 0),
        ("In delivery", 0),
        ("Delivered", 1),
        ("Benefits realised", 1),
        ("Not taken forward", 2),
        ("Merged as a duplicate", 0),
        ("Withdrawn", 1),
    ]
    assert sec.chart("by-state").summary == (
        "Of 9 opportunities submitted, 4 are still open, 2 delivered and 3 closed without delivery."
    )


def test_funnel_counts_the_furthest_stage_each_reached(dataset: Any) -> None:
    # Furthest: O1 O2 O8 submitted; O7 O10 triage; O3 O6 assessing (O6 before rejection);
    # O5 delivered (skipping assessing); O4 benefits realised.
    assert table(section("pipeline"), "funnel") == [
        ("Submitted", 9, D("100.0"), None),
        ("In triage", 6, D("66.7"), D("66.7")),
        ("Being assessed", 4, D("44.4"), D("66.7")),
        ("In the backlog", 2, D("22.2"), D("50.0")),
        ("In delivery", 2, D("22.2"), D("100.0")),
        ("Delivered", 2, D("22.2"), D("100.0")),
        ("Benefits realised", 1, D("11.1"), D("50.0")),
    ]


def test_conversion_and_rejection_rates(dataset: Any) -> None:
    sec = section("pipeline")
    assert table(sec, "rates") == [
        ("Accepted into the backlog", 2, D("22.2")),
        ("Delivered", 2, D("22.2")),
        ("Not taken forward (rejected)", 2, D("22.2")),
        ("Merged as duplicates", 0, D("0.0")),
        ("Withdrawn by the submitter", 1, D("11.1")),
        ("Still open", 4, D("44.4")),
    ]
    assert table(sec, "rejection-reasons") == [("Out of scope", 2, D("100.0"))]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Response: O1 O2 (submitted), O3 (assessing), O5 (delivered), O7 (rejected).
        (
            {"department": RESPONSE},
            {"Submitted": 2, "Being assessed": 1, "Delivered": 1, "Not taken forward": 1},
        ),
        # Custody booking: O4, O6, O8, O10.
        (
            {"journey": CUSTODY_JOURNEY},
            {"In triage": 1, "Benefits realised": 1, "Not taken forward": 1, "Withdrawn": 1},
        ),
        # CI as Standard: O3, O4.
        ({"theme": CI_STANDARD}, {"Being assessed": 1, "Benefits realised": 1}),
        # The last financial quarter (January to March 2026): O4 O5 O6 O7 O8.
        (
            {"period": "lfq"},
            {"Delivered": 1, "Benefits realised": 1, "Not taken forward": 2, "Withdrawn": 1},
        ),
    ],
)
def test_filters_choose_the_opportunities(dataset: Any, query: dict, expected: dict) -> None:
    rows = table(section("pipeline", {**PERIOD, **query}), "by-state")
    assert {label: n for label, n in rows if n} == expected


# --- Flow --------------------------------------------------------------------------------------


def test_throughput_lists_every_week_of_the_period(dataset: Any) -> None:
    rows = table(section("flow"), "throughput")
    assert rows[0][0] == date(2025, 12, 29) and rows[-1][0] == date(2026, 6, 15)
    assert len(rows) == 25
    busy = {week: (s, d) for week, s, d in rows if s or d}
    assert busy == {
        date(2026, 1, 5): (1, 0),  # O5
        date(2026, 1, 26): (0, 1),  # O5 delivered
        date(2026, 2, 2): (1, 0),  # O4
        date(2026, 3, 2): (1, 0),  # O6
        date(2026, 3, 9): (1, 0),  # O7
        date(2026, 3, 16): (1, 0),  # O8
        date(2026, 3, 30): (1, 0),  # O3
        date(2026, 4, 6): (0, 1),  # O4 delivered
        date(2026, 4, 27): (1, 0),  # O2
        date(2026, 5, 18): (0, 1),  # O11 delivered
        date(2026, 6, 1): (1, 0),  # O10
        date(2026, 6, 8): (1, 0),  # O1
    }


def test_lead_times_use_percentile_cont(dataset: Any) -> None:
    # Triaged in the period: 2, 1, 1, 18, 1, 1 days (O3 O4 O5 O6 O7 O10): median 1,
    # 85th percentile at rank 4.25 of 0–5: 2 + 0.25 × 16 = 6.
    # Delivered: 25, 66, 170 days: median 66, rank 1.7: 66 + 0.7 × 104 = 138.8.
    # Backlog to delivery: 18, 58, 161: median 58, 58 + 0.7 × 103 = 130.1.
    assert table(section("flow"), "lead-times") == [
        ("Submission to first triage", 6, D("1.0"), D("6.0")),
        ("Submission to delivery", 3, D("66.0"), D("138.8")),
        ("Backlog to delivery", 3, D("58.0"), D("130.1")),
    ]


def test_ageing_of_open_items_ignores_the_period(dataset: Any) -> None:
    # Open now: O1 5 days, O2 45 (submitted); O10 14 (triage); O3 75 (assessing);
    # O9 471 (backlog, submitted before the period).
    assert table(section("flow"), "ageing") == [
        ("Submitted", 1, 0, 1, 0, 0, 2),
        ("In triage", 0, 1, 0, 0, 0, 1),
        ("Being assessed", 0, 0, 1, 0, 0, 1),
        ("In the backlog", 0, 0, 0, 0, 1, 1),
        ("In delivery", 0, 0, 0, 0, 0, 0),
    ]


def test_two_speed_outcomes(dataset: Any) -> None:
    # O4 3 working days in delivery, O5 9 (both sized to fit); O11 7 (sized larger).
    # Planned into a cycle: O4 (delivered on Cycle 14's last day) and O5 (delivered
    # 30 Jan, after Cycle 9 ended on 19 Jan); O11 never planned.
    assert table(section("flow"), "two-speed") == [
        ("Fits a cycle (effort ≤ 4 days)", 2, 1, 1, 0, D("50.0"), 2, 1, D("50.0")),
        ("Larger than a cycle", 1, 0, 1, 0, D("0.0"), 0, 0, None),
        ("No current score", 0, 0, 0, 0, None, 0, 0, None),
    ]


def test_first_response_promise(dataset: Any) -> None:
    # On time: O3 (2 wd), O4 O5 O7 O10 (1); late: O6 (14); overdue: O2 (31 wd, waiting);
    # waiting within: O1 (3); withdrawn before an answer: O8.
    sec = section("flow")
    assert table(sec, "first-response") == [
        ("Answered within the deadline", 5, D("71.4")),
        ("Answered after the deadline", 1, D("14.3")),
        ("Still waiting, past the deadline", 1, D("14.3")),
        ("Still waiting, within the deadline", 1, None),
        ("Withdrawn before an answer", 1, None),
        ("No status history", 0, None),
    ]
    assert sec.chart("first-response").summary.startswith("71.4% of submissions due an answer")


def test_overdue_items_by_owner_are_named_for_the_ci_team(dataset: Any) -> None:
    # Casey: O2 (first response) and O3 (assessing since 10 April, update due 10 June);
    # no owner: O9 (backlog since March 2025). O10 entered triage on 2 June: not yet due.
    assert table(section("flow"), "overdue-by-owner") == [
        ("Casey CI", 1, 1, 2),
        ("No owner yet", 0, 1, 1),
    ]


def test_the_first_response_deadline_follows_the_board(dataset: Any) -> None:
    from opportunities.models import BoardSettings

    BoardSettings.objects.create(first_response_working_days=1)
    rows = {r[0]: r[1] for r in table(section("flow"), "first-response")}
    # With one working day O1 (3, waiting) is overdue, but O3 is still on time: it was
    # triaged on Good Friday, two weekdays after its submission and one working day.
    assert rows["Answered within the deadline"] == 5
    assert rows["Answered after the deadline"] == 1
    assert rows["Still waiting, past the deadline"] == 2


# --- Value -------------------------------------------------------------------------------------


def test_estimated_and_realised_by_quarter(dataset: Any) -> None:
    sec = section("value")
    assert table(sec, "estimated-realised") == [
        ("2025/26 Q4", 1, 0, D("200.0"), D("0.0"), D(5000), D(0)),
        ("2026/27 Q1", 2, 2, D("500.0"), D("450.0"), D(14000), D(13000)),
    ]
    assert sec.chart("estimated-realised").summary == (
        "3 opportunities were delivered, estimated to save £19,000 a year; 2 have recorded "
        "benefits so far, realising £13,000 a year."
    )


def test_cumulative_benefit_runs_month_by_month(dataset: Any) -> None:
    rows = table(section("value"), "cumulative-benefit")
    assert [r[0] for r in rows] == [date(2026, m, 1) for m in range(1, 7)]
    assert rows[-2:] == [
        (date(2026, 5, 1), 1, D(8000), D(8000), D("300.0")),
        (date(2026, 6, 1), 1, D(5000), D(13000), D("450.0")),
    ]
    assert all(r[1:] == (0, 0, 0, 0) for r in rows[:4])


def test_calibration_factors(dataset: Any) -> None:
    sec = section("value")
    few = "Indicative only (fewer than 5)"
    # O4: £10,000 estimated, £8,000 realised (Custody booking; both themes; Casey);
    # O11: £4,000 → £5,000 (Crime recording; Data First; Alex). Overall 13/14 = 0.93.
    assert table(sec, "accuracy-journey") == [
        ("Crime recording", 1, D(4000), D(5000), D("1.25"), few),
        ("Custody booking", 1, D(10000), D(8000), D("0.80"), few),
    ]
    assert table(sec, "accuracy-theme") == [
        ("Data First", 2, D(14000), D(13000), D("0.93"), few),
        ("CI as Standard", 1, D(10000), D(8000), D("0.80"), few),
    ]
    assert table(sec, "accuracy-assessor") == [
        ("Alex Assessor", 1, D(4000), D(5000), D("1.25"), few),
        ("Casey CI", 1, D(10000), D(8000), D("0.80"), few),
    ]
    assert "0.93 times the estimate" in sec.chart("accuracy-journey").summary
    assert any("never applied" in note for note in sec.chart("accuracy-journey").notes)


# --- Where the pain is -------------------------------------------------------------------------


def test_heatmap_of_open_impact_by_journey_step(dataset: Any) -> None:
    chart = section("pain").chart("journey-steps")
    # Open: O1 O3 O9 on "Take report" (£0 + £2,000 + £500), O2 on "Create record" (£1,000),
    # O10 on "Book in" (£3,000). Bands by rank: £1,000 → 2, £2,500 → 4, £3,000 → 5.
    assert chart.rows == [
        ("Crime recording", 1, "Take report", 3, D(2500)),
        ("Crime recording", 2, "Create record", 1, D(1000)),
        ("Custody booking", 1, "Book in", 1, D(3000)),
    ]
    grid = chart.extra
    assert grid["columns"] == ["Step 1", "Step 2"]
    crime, custody = grid["journeys"]
    assert [c["bucket"] for c in crime["cells"]] == [4, 2]
    assert custody["cells"][0]["bucket"] == 5 and custody["cells"][1] is None


def test_top_applications_share_impact_by_weight(dataset: Any) -> None:
    # RMS: O3 £2,000 + half of O2's £1,000; Custody app: half of O2 + O9's £500.
    assert table(section("pain"), "applications") == [
        ("RMS", 3, "live", 2, D(2500)),
        ("Custody app", 4, "live", 2, D(1000)),
    ]


def test_departments_by_submissions_and_impact(dataset: Any) -> None:
    sec = section("pain")
    assert table(sec, "departments-submissions") == [
        ("Response", 5, 4, D(3500)),
        ("Custody", 4, 1, D(3000)),
    ]
    assert [r[0] for r in table(sec, "departments-impact")] == ["Response", "Custody"]


def test_dna_themes_covered(dataset: Any) -> None:
    sec = section("pain")
    assert table(sec, "dna-themes") == [
        ("Data First", 3, 3, 1, D(0)),
        ("CI as Standard", 2, 1, 1, D(2000)),
    ]
    assert sec.chart("dna-themes").summary.startswith("Work delivered in the period touches 2 of")


# --- Engagement --------------------------------------------------------------------------------


def test_people_engaged_per_department(dataset: Any) -> None:
    sec = section("engagement")
    # Submitters in the period: sub1 (Response), sub2 (Custody). Supporters in the period:
    # sup1 (Response), sup2 and sub2 (Custody), Casey (no department). O9's 2025 supports
    # fall outside the period.
    assert table(sec, "people") == [
        ("Custody", 1, 2, 2),
        ("Response", 1, 1, 2),
        ("Force-wide roles or no department", 0, 1, 1),
    ]
    assert table(sec, "workforce-share") == [
        ("Custody", 2, 50, D("4.0")),
        ("Response", 2, 100, D("2.0")),
        ("Force-wide roles or no department", 1, 10, D("10.0")),
        ("Whole force", 5, 160, D("3.1")),
    ]
    assert sec.chart("workforce-share").summary.startswith("3.1% of the workforce (5 of 160")


def test_most_supported_open_items_hide_restricted_titles(dataset: Any) -> None:
    chart = section("engagement").chart("most-supported")
    assert chart.rows == [
        ("SO-2025-00009", "Opportunity O9", "In the backlog", 3, D(500)),
        ("SO-2026-00001", "Opportunity O1", "Submitted", 2, None),
        ("SO-2026-00003", "Opportunity O3", "Being assessed", 2, D(2000)),
        ("Restricted", "Restricted opportunity", "In triage", 1, D(3000)),
    ]
    assert chart.links[0] == "/opportunities/SO-2025-00009/"
    assert chart.links[3] is None


def test_a_journey_filter_narrows_every_section(dataset: Any) -> None:
    query = {**PERIOD, "journey": CRIME}
    assert table(section("overview", query), "headlines")[0][:2] == (5, 2)
    assert [r[0] for r in table(section("pain", query), "journey-steps")] == [
        "Crime recording",
        "Crime recording",
    ]
    assert table(section("value", query), "accuracy-journey") == [
        ("Crime recording", 1, D(4000), D(5000), D("1.25"), "Indicative only (fewer than 5)")
    ]


# --- Query counts ------------------------------------------------------------------------------


def test_each_section_is_one_statement(dataset: Any, django_assert_max_num_queries: Any) -> None:
    from django.db import connections

    with reporting_snapshot() as cursor:
        batch = batch_latest(cursor)
        options = filter_options(cursor)
        params = QueryDict(mutable=True)
        params.update(PERIOD)
        filters = DashboardFilterForm(params, options=options, as_of=batch.as_of).filters()
        for info in SECTIONS.values():
            with django_assert_max_num_queries(1, connection=connections["reporting"]):
                info.build(Context(cursor, filters, options, batch))


# --- The calibration factor beside a score -----------------------------------------------------


def test_calibration_beside_a_score_falls_back_to_the_force(dataset: Any) -> None:
    from reporting.dashboards.selectors.calibration import calibration_for

    # Crime recording has one calibrated opportunity (O11): too few, so the force's 13/14.
    crime = calibration_for(journey_key=CRIME)
    assert crime is not None and crime.scope == "force" and crime.count == 2
    assert crime.factor.quantize(D("0.01")) == D("0.93")
    assert calibration_for(journey_key=None) == crime
