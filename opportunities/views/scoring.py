"""Scoring screens: the CI team's score form with its live preview and assessors' panel
(``/opportunities/<ref>/score/``), and the admins' scoring-model editor (``/scoring-models/``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from opportunities import scoring
from opportunities.errors import ApplicationError
from opportunities.models import Opportunity, Score, ScoringModel
from opportunities.selectors import opportunity_visible_to
from opportunities.selectors_scoring import (
    rescore_latest,
    result_rows,
    score_explain_context,
    score_panel,
)
from opportunities.services import rescoring
from opportunities.services.scoring import (
    DEFAULTED_FIELDS,
    JUDGEMENT_FIELDS,
    opportunity_score,
    score_defaults,
    score_preview,
)
from synergy_portal.permissions import Action, can


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


LABELS = {
    "people": "People affected",
    "frequency_per_week": "Occurrences per person per week",
    "minutes": "Minutes lost each time",
    "hourly_cost": "Loaded hourly cost (£)",
    "supporters": "Supporters",
    "themes": "DNA themes touched",
    "severity": "Friction severity",
    "risk_class": "Risk",
    "effort_days": "Effort in delivery days",
    "confidence": "Confidence",
    "override_reason": "Reason for changing a figure",
    "note": "Note",
}
INT_FIELDS = ("people", "severity", "themes", "supporters")
FLOAT_FIELDS = ("frequency_per_week", "minutes", "effort_days", "hourly_cost")
MISSING = {
    "severity": "Choose how severe the friction is",
    "risk_class": "Choose the risk class",
    "effort_days": "Enter the effort in delivery days",
    "confidence": "Choose how confident you are in the figures",
}
SEVERITY_LABELS = {
    1: "1 – a minor annoyance",
    2: "2 – slows the work a little",
    3: "3 – slows the work noticeably",
    4: "4 – seriously gets in the way",
    5: "5 – stops the work",
}
ACTION_ASSESS, ACTION_AGREE, ACTION_PREVIEW = "assess", "agree", "preview"
MSG_ASSESSED = "Your assessment is saved. You can now see the other assessors' scores."
MSG_AGREED = "The agreed score is saved and is now this opportunity's score."


# --- Form parsing -------------------------------------------------------------------------


def _label_message(name: str, message: str) -> str:
    """The scoring module names fields by their code; people read their labels."""
    label = LABELS.get(name)
    if label and message.startswith(name):
        return label + message[len(name) :]
    return message


def parse_score_form(data: QueryDict) -> tuple[dict[str, Any], dict[str, str]]:
    """Numbers and choices from the form; blank figures fall back to their defaults."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in (*INT_FIELDS, *FLOAT_FIELDS):
        raw = (data.get(name) or "").strip().replace(",", "").lstrip("£").strip()
        if not raw:
            continue
        try:
            number = float(raw)
        except ValueError:
            errors[name] = f"{LABELS[name]} must be a number"
            continue
        if not math.isfinite(number):
            errors[name] = f"{LABELS[name]} must be a number"
        elif name in INT_FIELDS:
            if number != int(number):
                errors[name] = f"{LABELS[name]} must be a whole number"
            else:
                values[name] = int(number)
        else:
            values[name] = number
    for name in ("risk_class", "confidence"):
        if data.get(name):
            values[name] = data[name]
    return values, errors


def _missing_judgements(values: dict[str, Any]) -> dict[str, str]:
    return {name: MISSING[name] for name in JUDGEMENT_FIELDS if name not in values}


# Stand-ins for judgements not given yet, so the figures that were given can be checked.
PLACEHOLDERS = {"severity": 1, "risk_class": "none", "effort_days": 1.0, "confidence": "high"}


def _input_problem(
    opportunity: Opportunity, model: ScoringModel, values: dict[str, Any]
) -> scoring.ScoringError | None:
    try:
        score_preview(opportunity=opportunity, values={**PLACEHOLDERS, **values}, model=model)
    except scoring.ScoringError as problem:
        if problem.field in values or problem.field in DEFAULTED_FIELDS:
            return problem
    return None


# --- Shared look-ups ----------------------------------------------------------------------


def _opportunity_for_scoring(request: HtmxHttpRequest, reference: str) -> Opportunity:
    if not can(request.user, Action.SCORE):
        raise PermissionDenied
    opportunity = (
        opportunity_visible_to(user=request.user)
        .select_related("journey", "owner")
        .filter(reference=reference)
        .first()
    )
    if opportunity is None:
        raise Http404("No such opportunity.")
    return opportunity


def _active_model() -> ScoringModel | None:
    return ScoringModel.objects.filter(is_active=True).first()


@dataclass
class Preview:
    rows: list[Any] = field(default_factory=list)
    result: scoring.ScoreResult | None = None
    error: str = ""
    error_field: str = ""
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def error_label(self) -> str:
        return LABELS.get(self.error_field, "")


def _preview(
    opportunity: Opportunity,
    model: ScoringModel,
    values: dict[str, Any],
    errors: dict[str, str],
    reason: str,
) -> Preview:
    if errors:
        name, message = next(iter(errors.items()))
        return Preview(error=message, error_field=name)
    missing = _missing_judgements(values)
    if missing:
        return Preview(missing=[LABELS[name].lower() for name in missing])
    try:
        result, inputs, sources = score_preview(opportunity=opportunity, values=values, model=model)
    except scoring.ScoringError as problem:
        return Preview(
            error=_label_message(problem.field, problem.message), error_field=problem.field
        )
    overridden = [
        LABELS[n].lower()
        for n, src in sources.items()
        if src == "assessor" and n in DEFAULTED_FIELDS
    ]
    warnings = []
    if overridden and not reason.strip():
        warnings.append(f"You changed {', '.join(overridden)}: give a reason before you save.")
    stored = {**inputs, "sources": sources, "override_reason": reason.strip()}
    return Preview(rows=result_rows(result, stored, model), result=result, warnings=warnings)


# --- The score form -----------------------------------------------------------------------


def _form_values(defaults: dict[str, Any], data: QueryDict | None) -> dict[str, str]:
    """What each input shows: the posted text, or the default."""
    shown: dict[str, str] = {}
    for name in DEFAULTED_FIELDS:
        default = defaults[name].value
        shown[name] = (
            ""
            if default is None
            else f"{default:g}"
            if isinstance(default, float)
            else str(default)
        )
    if data is not None:
        for name in (*DEFAULTED_FIELDS, *JUDGEMENT_FIELDS, "override_reason", "note"):
            if name in data:
                shown[name] = data.get(name, "")
    return shown


def _render_score_page(
    request: HtmxHttpRequest,
    opportunity: Opportunity,
    model: ScoringModel | None,
    *,
    errors: dict[str, str] | None = None,
    preview: Preview | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "opportunity": opportunity,
        "model": model,
        "errors": errors or {},
        "labels": LABELS,
        **score_explain_context(opportunity=opportunity),
    }
    if model is not None:
        defaults = score_defaults(opportunity=opportunity, model=model)
        weights = {**scoring.DEFAULT_WEIGHTS, **(model.weights or {})}
        panel = score_panel(opportunity=opportunity, user=request.user, model=model)
        context.update(
            defaults=defaults,
            defaulted_fields=[(name, LABELS[name], defaults[name]) for name in DEFAULTED_FIELDS],
            values=_form_values(defaults, request.POST if request.method == "POST" else None),
            severities=SEVERITY_LABELS.items(),
            # Weakest first (a JSON object's keys come back in no useful order).
            risks=[
                (k, k.replace("_", " ").capitalize(), v)
                for k, v in sorted(weights["risk"].items(), key=lambda kv: float(kv[1]))
            ],
            confidences=[
                (k, k.capitalize(), v)
                for k, v in sorted(weights["confidence"].items(), key=lambda kv: float(kv[1]))
            ],
            panel=panel,
            can_assess=panel.own is None,
            can_agree=not panel.assessments or panel.visible,
            preview=preview or Preview(missing=[LABELS[n].lower() for n in JUDGEMENT_FIELDS]),
        )
    return render(request, "scoring/score.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def score_page(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    opportunity = _opportunity_for_scoring(request, reference)
    model = _active_model()
    if request.method == "GET" or model is None:
        return _render_score_page(request, opportunity, model)
    action = request.POST.get("action", ACTION_PREVIEW)
    reason, note = request.POST.get("override_reason", ""), request.POST.get("note", "")
    values, errors = parse_score_form(request.POST)
    if action not in (ACTION_ASSESS, ACTION_AGREE):
        preview = _preview(opportunity, model, values, errors, reason)
        return _render_score_page(request, opportunity, model, preview=preview)
    missing = _missing_judgements(values)
    if missing and not errors:
        # Say what is wrong with the figures given too, not only what is missing.
        problem = _input_problem(opportunity, model, values)
        if problem is not None:
            errors[problem.field] = _label_message(problem.field, problem.message)
    errors = {**errors, **{k: v for k, v in missing.items() if k not in errors}}
    if not errors:
        kind = Score.Kind.ASSESSMENT if action == ACTION_ASSESS else Score.Kind.AGREED
        try:
            opportunity_score(
                actor=request.user,
                opportunity_id=opportunity.pk,
                values=values,
                override_reason=reason,
                note=note,
                kind=kind,
                model=model,
            )
        except scoring.ScoringError as problem:
            errors[problem.field] = _label_message(problem.field, problem.message)
        except ApplicationError as refusal:
            if refusal.extra.get("forbidden"):
                raise PermissionDenied(refusal.message) from refusal
            errors[str(refusal.extra.get("field") or "form")] = refusal.message
        else:
            messages.success(request, MSG_ASSESSED if kind == Score.Kind.ASSESSMENT else MSG_AGREED)
            return redirect("opportunities:score", reference=opportunity.reference)
    if any(name in errors for name in (*INT_FIELDS, *FLOAT_FIELDS)):
        preview = Preview(error="Correct the figures marked in the form to see the score.")
    else:
        preview = _preview(opportunity, model, values, {}, reason)
    return _render_score_page(
        request, opportunity, model, errors=errors, preview=preview, status=400
    )


@require_POST
@login_required
def score_preview_view(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """The live preview: the result partial for the form as it stands (nothing is saved)."""
    opportunity = _opportunity_for_scoring(request, reference)
    model = _active_model()
    if model is None:
        return render(request, "opportunities/partials/score_result.html", {"model": None})
    values, errors = parse_score_form(request.POST)
    preview = _preview(opportunity, model, values, errors, request.POST.get("override_reason", ""))
    context = {"preview": preview, "model": model, "labels": LABELS, "announce": True}
    return render(request, "opportunities/partials/score_result.html", context)


# --- Scoring models (admins) --------------------------------------------------------------

WEIGHT_INPUTS: list[tuple[str, str, str]] = [
    *[
        (f"risk.{k}", f"Risk multiplier: {k.replace('_', ' ')}", "weights")
        for k in scoring.RISK_CLASSES
    ],
    *[(f"confidence.{k}", f"Confidence factor: {k}", "weights") for k in scoring.CONFIDENCE_LEVELS],
    ("severity_step", "Severity step (added per level above 1)", "weights"),
    ("theme_step", "DNA theme step (added per theme)", "weights"),
    ("theme_cap", "DNA themes counted at most", "weights"),
    ("support_step", "Support step (per tenfold supporters)", "weights"),
    ("working_weeks", "Working weeks a year", "parameters"),
    ("default_hourly_cost", "Default loaded hourly cost (£)", "parameters"),
    ("min_effort_days", "Least effort counted (days)", "parameters"),
    ("two_speed_days", "Most effort that fits a 2-Speed cycle (days)", "parameters"),
    (
        "disagreement_ratio",
        "Assessors disagree when highest ÷ lowest priority is above",
        "parameters",
    ),
]


def _input_id(key: str) -> str:
    return "w-" + key.replace(".", "-").replace("_", "-")


def _model_values(model: ScoringModel | None) -> dict[str, Any]:
    weights = {**scoring.DEFAULT_WEIGHTS, **((model.weights if model else None) or {})}
    parameters = {
        **scoring.DEFAULT_PARAMETERS,
        "disagreement_ratio": 2.0,
        **((model.parameters if model else None) or {}),
    }
    values: dict[str, Any] = {}
    for key, _label, group in WEIGHT_INPUTS:
        source = weights if group == "weights" else parameters
        head, _, tail = key.partition(".")
        values[key] = source.get(head, {}).get(tail) if tail else source.get(head)
    return values


def _require_admin(request: HtmxHttpRequest) -> None:
    if not can(request.user, Action.ADMIN):
        raise PermissionDenied


def _model_or_404(version: int) -> ScoringModel:
    model = ScoringModel.objects.filter(version=version).first()
    if model is None:
        raise Http404("No such scoring model version.")
    return model


@require_GET
@login_required
def scoring_models(request: HtmxHttpRequest) -> HttpResponse:
    _require_admin(request)
    models = list(ScoringModel.objects.order_by("-version"))
    rows = [(m, rescoring.model_problem(m)) for m in models]
    return render(request, "scoring/models.html", {"rows": rows, "run": rescore_latest()})


def _model_form_rows(values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "id": _input_id(key),
            "label": label,
            "value": values.get(key, ""),
            "error": errors.get(key, ""),
        }
        for key, label, _group in WEIGHT_INPUTS
    ]


@require_http_methods(["GET", "POST"])
@login_required
def scoring_model_new(request: HtmxHttpRequest) -> HttpResponse:
    _require_admin(request)
    base = _active_model()
    if request.method == "GET":
        values = {
            k: ("" if v is None else f"{v:g}" if isinstance(v, float) else str(v))
            for k, v in _model_values(base).items()
        }
        name = ""
        errors: dict[str, str] = {}
    else:
        name = request.POST.get("name", "")
        values = {
            key: request.POST.get(_input_id(key), "").strip() for key, _l, _g in WEIGHT_INPUTS
        }
        errors = {}
        weights: dict[str, Any] = {"risk": {}, "confidence": {}}
        parameters: dict[str, Any] = {}
        for key, label, group in WEIGHT_INPUTS:
            try:
                number = float(values[key])
                if not math.isfinite(number):
                    raise ValueError
            except ValueError:
                errors[key] = f"{label} must be a number"
                continue
            if key == "theme_cap":
                number = int(number) if number == int(number) else number
            head, _, tail = key.partition(".")
            target = weights if group == "weights" else parameters
            if tail:
                target[head][tail] = number
            else:
                target[head] = number
        if not errors:
            try:
                model = rescoring.scoring_model_create(
                    actor=request.user, name=name, weights=weights, parameters=parameters
                )
            except ApplicationError as refusal:
                errors[str(refusal.extra.get("field") or "name")] = refusal.message
            else:
                messages.success(
                    request, f"Saved version {model.version}. Check it, then activate it."
                )
                return redirect("opportunities:scoring_model", version=model.version)
    context = {
        "name": name,
        "rows": _model_form_rows(values, errors),
        "errors": errors,
        "error_list": [(("name" if k == "name" else _input_id(k)), v) for k, v in errors.items()],
        "base": base,
    }
    return render(request, "scoring/model_new.html", context, status=400 if errors else 200)


@require_GET
@login_required
def scoring_model_detail(request: HtmxHttpRequest, version: int) -> HttpResponse:
    _require_admin(request)
    model = _model_or_404(version)
    values = _model_values(model)
    context = {
        "model": model,
        "rows": _model_form_rows(values, {}),
        "problem": rescoring.model_problem(model),
        "run": rescore_latest(model=model),
    }
    return render(request, "scoring/model_detail.html", context)


@require_POST
@login_required
def scoring_model_activate(request: HtmxHttpRequest, version: int) -> HttpResponse:
    _require_admin(request)
    model = _model_or_404(version)
    try:
        run = rescoring.scoring_model_activate(actor=request.user, model_id=model.pk)
    except ApplicationError as refusal:
        if refusal.extra.get("forbidden"):
            raise PermissionDenied(refusal.message) from refusal
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            f"Version {model.version} is now active. Re-scoring {run.total:,} open "
            f"{'opportunity' if run.total == 1 else 'opportunities'} in the background; "
            "the lists show the new ranking when it finishes.",
        )
    return redirect(reverse("opportunities:scoring_model", kwargs={"version": model.version}))


@require_GET
@login_required
def rescore_progress(request: HtmxHttpRequest, version: int) -> HttpResponse:
    """The re-scoring progress region (polled by htmx while a run is going)."""
    _require_admin(request)
    model = _model_or_404(version)
    return render(
        request,
        "opportunities/partials/score_rescore_progress.html",
        {"model": model, "run": rescore_latest(model=model)},
    )
