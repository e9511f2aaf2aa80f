"""The journey-impact score (pure module): hand-worked examples and properties."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opportunities.scoring import (
    CONFIDENCE_LEVELS,
    DEFAULT_PARAMETERS,
    DEFAULT_WEIGHTS,
    RISK_CLASSES,
    ScoreInputs,
    ScoringError,
    score,
    validate_weights,
)

BASE = ScoreInputs(
    people=200,
    frequency_per_week=5,
    minutes=6,
    severity=3,
    risk_class="operational",
    themes=2,
    supporters=9,
    effort_days=2,
    confidence="medium",
    hourly_cost=30,
)


def test_hand_worked_example() -> None:
    # 200 people × 5 a week × 6 min ÷ 60 × 46 weeks = 4,600 hours; × £30 = £138,000.
    # impact = 138,000 × 1.5 (operational) × 1.2 (severity 3) × 1.1 (2 themes) × 1.1 (9 supporters)
    # priority = 300,564 × 0.8 (medium) ÷ 2 days = 120,225.6
    result = score(BASE)
    assert result.hours_per_year == pytest.approx(4600)
    assert result.cost_per_year == pytest.approx(138_000)
    assert result.impact == pytest.approx(300_564)
    assert result.priority == pytest.approx(120_225.6)
    assert result.fits_two_speed is True


def test_second_hand_worked_example_safeguarding_low_confidence_big_effort() -> None:
    # 12 people × 1 a week × 45 min → 12 × 0.75 × 46 = 414 h; × £40 = £16,560
    # × 2.0 × (1 + 0.4) × (1 + 0.15, themes capped at 3) × (1 + 0.1·log10(1)) = 53,323.2
    # × 0.5 ÷ 10 days = 2,666.16
    inputs = ScoreInputs(12, 1, 45, 5, "safeguarding", 6, 0, 10, "low", 40)
    result = score(inputs)
    assert result.cost_per_year == pytest.approx(16_560)
    assert result.impact == pytest.approx(53_323.2)
    assert result.priority == pytest.approx(2_666.16)
    assert result.fits_two_speed is False


def test_effort_below_half_a_day_counts_as_half_a_day() -> None:
    assert score(replace(BASE, effort_days=0.1)).priority == pytest.approx(
        score(replace(BASE, effort_days=0.5)).priority
    )


def test_breakdown_names_every_term_with_its_formula() -> None:
    terms = score(BASE).breakdown()
    assert [t["key"] for t in terms] == [
        "people",
        "frequency",
        "hours_per_occurrence",
        "working_weeks",
        "hourly_cost",
        "risk",
        "severity",
        "themes",
        "supporters",
        "confidence",
        "per_delivery_day",
    ]
    assert all(t["label"] and t["formula"] for t in terms)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("people", 0, "people must be between 1 and 100000"),
        ("people", 250_000, "people must be between 1 and 100000"),
        ("minutes", 10_000, "minutes must be between 0 and 960"),
        ("effort_days", 0, "effort_days must be between"),
        ("severity", 6, "severity must be between 1 and 5"),
        ("frequency_per_week", float("nan"), "frequency_per_week must be a finite number"),
        ("risk_class", "catastrophic", "risk class must be one of"),
        ("confidence", "certain", "confidence must be one of"),
    ],
)
def test_bad_inputs_are_refused_with_a_clear_message(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ScoringError) as caught:
        score(replace(BASE, **{field: value}))
    assert message in caught.value.message


def test_a_model_with_invalid_weights_is_refused() -> None:
    with pytest.raises(ScoringError, match="risk must give a multiplier"):
        validate_weights({**DEFAULT_WEIGHTS, "risk": {"none": 1.0}}, DEFAULT_PARAMETERS)
    with pytest.raises(ScoringError, match="working_weeks"):
        validate_weights(DEFAULT_WEIGHTS, {**DEFAULT_PARAMETERS, "working_weeks": 0})


inputs_strategy = st.builds(
    ScoreInputs,
    people=st.integers(1, 100_000),
    frequency_per_week=st.floats(0, 500, allow_nan=False),
    minutes=st.floats(0, 960, allow_nan=False),
    severity=st.integers(1, 5),
    risk_class=st.sampled_from(sorted(RISK_CLASSES)),
    themes=st.integers(0, 7),
    supporters=st.integers(0, 1_000_000),
    effort_days=st.floats(0.01, 2000, allow_nan=False),
    confidence=st.sampled_from(sorted(CONFIDENCE_LEVELS)),
    hourly_cost=st.floats(0.01, 1000, allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(inputs_strategy)
def test_deterministic_finite_and_breakdown_reproduces_priority(inputs: ScoreInputs) -> None:
    first, second = score(inputs), score(inputs)
    assert first == second
    for value in (first.hours_per_year, first.cost_per_year, first.impact, first.priority):
        assert math.isfinite(value) and value >= 0
    product = math.prod(term["value"] for term in first.breakdown())
    assert product == first.priority


RISK_ORDER = ["none", "data_quality", "operational", "safeguarding"]


@settings(max_examples=300, deadline=None)
@given(
    inputs_strategy,
    st.sampled_from(
        ["people", "frequency_per_week", "minutes", "severity", "risk_class", "supporters"]
    ),
)
def test_priority_never_decreases_when_pain_grows(inputs: ScoreInputs, field: str) -> None:
    value = getattr(inputs, field)
    if field == "risk_class":
        bigger = RISK_ORDER[min(RISK_ORDER.index(value) + 1, 3)]
    elif field == "severity":
        bigger = min(value + 1, 5)
    elif field == "people":
        bigger = min(value + 1, 100_000)
    elif field == "supporters":
        bigger = value + 1
    elif field == "minutes":
        bigger = min(value * 1.5 + 1, 960)
    else:
        bigger = min(value * 1.5 + 1, 500)
    assert score(replace(inputs, **{field: bigger})).priority >= score(inputs).priority


@settings(max_examples=300, deadline=None)
@given(inputs_strategy, st.floats(0, 1000, allow_nan=False))
def test_priority_never_increases_when_effort_grows(inputs: ScoreInputs, extra: float) -> None:
    more = min(inputs.effort_days + extra, 2000)
    assert score(replace(inputs, effort_days=more)).priority <= score(inputs).priority
