"""Realised benefits (``/board/cards/<ref>/benefit/``): hours and £ a year, non-cash
benefits and the evidence, recorded by the CI team once a delivered fix can be measured."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from opportunities.errors import ApplicationError
from opportunities.selectors import opportunity_get
from opportunities.services.benefits import benefit_record
from opportunities.views.board import HtmxHttpRequest, card_or_404, require
from synergy_portal.permissions import Action
from synergy_portal.ratelimits import limited

MSG_RECORDED = "Benefit recorded for {reference}."
FIELDS = ("hours_per_year", "cash_per_year", "non_cash", "evidence", "realised_on")


def _amount(raw: str, label: str, errors: dict[str, str], name: str) -> Decimal:
    text = (raw or "").replace(",", "").lstrip("£").strip() or "0"
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors[name] = f"{label} must be a number"
        return Decimal("0")
    if not value.is_finite() or value < 0 or value > Decimal("9999999999"):
        errors[name] = f"{label} must be a number of 0 or more"
        return Decimal("0")
    return value


@require_http_methods(["GET", "POST"])
@login_required
@limited("write")
def card_benefit(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    require(request, Action.RECORD_BENEFIT)
    opp = card_or_404(request, reference)
    values = {name: request.POST.get(name, "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        hours = _amount(values["hours_per_year"], "Hours saved a year", errors, "hours_per_year")
        cash = _amount(values["cash_per_year"], "Money saved a year", errors, "cash_per_year")
        realised_on = None
        if values["realised_on"]:
            try:
                realised_on = date.fromisoformat(values["realised_on"])
            except ValueError:
                errors["realised_on"] = "Enter the date, for example 2026-11-27"
        if not errors:
            try:
                benefit_record(
                    actor=request.user,
                    opportunity_id=opp.pk,
                    hours_per_year=hours,
                    cash_per_year=cash,
                    non_cash=values["non_cash"],
                    evidence=values["evidence"],
                    realised_on=realised_on,
                )
            except ApplicationError as refusal:
                errors[str(refusal.extra.get("field") or "form")] = refusal.message
            else:
                messages.success(request, MSG_RECORDED.format(reference=reference))
                return redirect("opportunities:board_card", reference=reference)
        status = 400
    context = {
        "opportunity": opportunity_get(user=request.user, reference=reference),
        "values": values,
        "errors": errors,
    }
    return render(request, "opportunities/board_benefit.html", context, status=status)
