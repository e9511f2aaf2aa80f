"""The journey-impact score: pure Python, no Django imports.

Model v1 (DESIGN.md):
    hours per year = N × f × m / 60 × working weeks
    cost per year  = hours × loaded hourly cost
    impact         = cost × risk × (1 + 0.1·(s−1)) × (1 + 0.05·min(k,3)) × (1 + 0.1·log10(1+v))
    priority       = impact × confidence / max(e, 0.5)   (£ of yearly impact per delivery day)
Every result carries a breakdown of terms whose product, taken in order, is the priority.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

RISK_CLASSES = {"none": 1.0, "data_quality": 1.2, "operational": 1.5, "safeguarding": 2.0}
CONFIDENCE_LEVELS = {"low": 0.5, "medium": 0.8, "high": 1.0}

DEFAULT_WEIGHTS: dict[str, Any] = {
    "risk": RISK_CLASSES,
    "confidence": CONFIDENCE_LEVELS,
    "severity_step": 0.1,
    "theme_step": 0.05,
    "theme_cap": 3,
    "support_step": 0.1,
}
DEFAULT_PARAMETERS: dict[str, Any] = {
    "working_weeks": 46,
    "default_hourly_cost": 30.0,
    "min_effort_days": 0.5,
    "two_speed_days": 4,
}

MAX_PEOPLE = 100_000
MAX_FREQUENCY = 500.0
MAX_MINUTES = 960.0
MAX_EFFORT_DAYS = 2000.0


class ScoringError(ValueError):
    """An input or weight the model cannot use; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ScoreInputs:
    people: int
    frequency_per_week: float
    minutes: float
    severity: int
    risk_class: str
    themes: int
    supporters: int
    effort_days: float
    confidence: str
    hourly_cost: float


@dataclass(frozen=True)
class Term:
    key: str
    label: str
    value: float
    formula: str


@dataclass(frozen=True)
class ScoreResult:
    hours_per_year: float
    cost_per_year: float
    impact: float
    priority: float
    effort_days: float
    fits_two_speed: bool
    terms: list[Term] = field(default_factory=list)

    def breakdown(self) -> list[dict[str, Any]]:
        return [asdict(term) for term in self.terms]


def _finite(name: str, value: float, low: float, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ScoringError(name, f"{name} must be a number.") from None
    if not math.isfinite(number):
        raise ScoringError(name, f"{name} must be a finite number.")
    if number < low or number > high:
        raise ScoringError(name, f"{name} must be between {low:g} and {high:g}.")
    return number


def validate_weights(weights: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
    """Raise ScoringError unless the weights and parameters make a usable model."""
    risk = weights.get("risk")
    confidence = weights.get("confidence")
    if not isinstance(risk, Mapping) or set(risk) != set(RISK_CLASSES):
        raise ScoringError(
            "risk", f"risk must give a multiplier for each of {sorted(RISK_CLASSES)}."
        )
    if not isinstance(confidence, Mapping) or set(confidence) != set(CONFIDENCE_LEVELS):
        raise ScoringError(
            "confidence", f"confidence must give a factor for each of {sorted(CONFIDENCE_LEVELS)}."
        )
    for name, value in risk.items():
        _finite(f"risk.{name}", value, 0.1, 10)
    for name, value in confidence.items():
        _finite(f"confidence.{name}", value, 0.01, 1)
    for name in ("severity_step", "theme_step", "support_step"):
        _finite(name, weights.get(name), 0, 2)
    _finite("theme_cap", weights.get("theme_cap"), 0, 7)
    _finite("working_weeks", parameters.get("working_weeks"), 1, 52)
    _finite("default_hourly_cost", parameters.get("default_hourly_cost"), 0.01, 1000)
    _finite("min_effort_days", parameters.get("min_effort_days"), 0.01, 10)
    _finite("two_speed_days", parameters.get("two_speed_days"), 0.5, 20)


def validate_inputs(inputs: ScoreInputs, weights: Mapping[str, Any]) -> None:
    _finite("people", inputs.people, 1, MAX_PEOPLE)
    _finite("frequency_per_week", inputs.frequency_per_week, 0, MAX_FREQUENCY)
    _finite("minutes", inputs.minutes, 0, MAX_MINUTES)
    _finite("severity", inputs.severity, 1, 5)
    _finite("themes", inputs.themes, 0, 7)
    _finite("supporters", inputs.supporters, 0, 10_000_000)
    _finite("effort_days", inputs.effort_days, 0.01, MAX_EFFORT_DAYS)
    _finite("hourly_cost", inputs.hourly_cost, 0.01, 1000)
    if inputs.risk_class not in weights["risk"]:
        raise ScoringError("risk_class", f"risk class must be one of {sorted(weights['risk'])}.")
    if inputs.confidence not in weights["confidence"]:
        raise ScoringError(
            "confidence", f"confidence must be one of {sorted(weights['confidence'])}."
        )


def score(
    inputs: ScoreInputs,
    weights: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> ScoreResult:
    """Score one opportunity. Deterministic; the product of the terms equals the priority."""
    weights = {**DEFAULT_WEIGHTS, **(weights or {})}
    parameters = {**DEFAULT_PARAMETERS, **(parameters or {})}
    validate_weights(weights, parameters)
    validate_inputs(inputs, weights)

    weeks = float(parameters["working_weeks"])
    hours = inputs.people * inputs.frequency_per_week * inputs.minutes / 60 * weeks
    cost = hours * inputs.hourly_cost
    risk = float(weights["risk"][inputs.risk_class])
    severity = 1 + float(weights["severity_step"]) * (inputs.severity - 1)
    theme_count = min(inputs.themes, int(weights["theme_cap"]))
    themes = 1 + float(weights["theme_step"]) * theme_count
    support = 1 + float(weights["support_step"]) * math.log10(1 + inputs.supporters)
    confidence = float(weights["confidence"][inputs.confidence])
    effort = max(inputs.effort_days, float(parameters["min_effort_days"]))
    per_day = 1 / effort

    terms = [
        Term("people", "People affected", float(inputs.people), "N"),
        Term("frequency", "Occurrences per person per week", inputs.frequency_per_week, "f"),
        Term("hours_per_occurrence", "Hours lost per occurrence", inputs.minutes / 60, "m ÷ 60"),
        Term("working_weeks", "Working weeks per year", weeks, "working weeks"),
        Term("hourly_cost", "Loaded hourly cost (£)", inputs.hourly_cost, "role's hourly cost"),
        Term(
            "risk", f"Risk ({inputs.risk_class.replace('_', ' ')})", risk, "risk class multiplier"
        ),
        Term(
            "severity",
            f"Friction severity {inputs.severity} of 5",
            severity,
            f"1 + {weights['severity_step']}·(s − 1)",
        ),
        Term(
            "themes",
            f"DNA themes touched ({inputs.themes}, capped at {weights['theme_cap']})",
            themes,
            f"1 + {weights['theme_step']}·min(k, {weights['theme_cap']})",
        ),
        Term(
            "supporters",
            f"Supporters ({inputs.supporters})",
            support,
            f"1 + {weights['support_step']}·log10(1 + v)",
        ),
        Term("confidence", f"Confidence ({inputs.confidence})", confidence, "confidence factor"),
        Term(
            "per_delivery_day",
            f"Per delivery day (effort {effort:g} days)",
            per_day,
            f"1 ÷ max(e, {parameters['min_effort_days']})",
        ),
    ]
    impact = cost * risk * severity * themes * support
    priority = 1.0
    for term in terms:
        priority *= term.value
    return ScoreResult(
        hours_per_year=hours,
        cost_per_year=cost,
        impact=impact,
        priority=priority,
        effort_days=effort,
        fits_two_speed=inputs.effort_days <= float(parameters["two_speed_days"]),
        terms=terms,
    )
