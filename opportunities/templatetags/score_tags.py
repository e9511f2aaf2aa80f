"""Template helpers for explaining scores (``{% load score_tags %}``)."""

from __future__ import annotations

import math
from typing import Any

from django import template

from opportunities.selectors_scoring import TermRow, breakdown_product, score_rows

register = template.Library()


@register.simple_tag
def score_term_rows(score: Any) -> list[TermRow]:
    """The rows of a stored score's "why this score" table (no query if ``model`` is loaded)."""
    return score_rows(score) if score is not None else []


@register.simple_tag
def term_product(rows: list[TermRow]) -> float:
    return breakdown_product(rows)


@register.filter
def score_value(value: Any) -> str:
    """A term's value, precise enough to check the product by hand, grouped for reading."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(number):
        return str(value)
    if number == int(number) and abs(number) < 1e15:
        return f"{int(number):,}"
    if abs(number) >= 1000:
        return f"{number:,.2f}"
    text = f"{number:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("0", "-0") else f"{number:.2g}"


@register.filter
def code_label(value: Any) -> str:
    """``data_quality`` → ``Data quality``."""
    text = str(value or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``errors|get_item:name``: a dictionary entry by a variable key ("" when absent)."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
