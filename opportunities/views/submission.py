"""The submission form: new opportunity, draft editing, autosave, journey steps, similar
opportunities, confirmation, and the way back to a draft after a session time-out.

Every POST of the form first saves what was typed as the person's draft (only the answers
that pass validation; the page shows everything as typed), so a validation error, a
"support instead" or a time-out never loses work.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from journeys.models import Journey, JourneyStep
from opportunities.errors import ApplicationError
from opportunities.forms import FormKey, OpportunityForm, form_key_make, form_key_read
from opportunities.models import Opportunity, Status
from opportunities.selectors import draft_attachments, supported_ids, typical_days_to_triage
from opportunities.selectors_similar import opportunity_similar
from opportunities.services.attachments import (
    ACCEPT,
    MAX_FILE_BYTES,
    MAX_FILES,
    attachment_remove,
    attachments_add,
    human_size,
)
from opportunities.services.engagement import opportunity_support
from opportunities.services.submission import (
    TRIAGE_WORKING_DAYS,
    opportunity_draft_delete,
    opportunity_draft_save,
    opportunity_submit,
)
from synergy_portal.permissions import Action, can
from synergy_portal.ratelimits import limited

PENDING_SESSION_KEY = "opportunities.pending_draft"
MSG_DRAFT_SAVED = "Your draft has been saved. You can come back to it from My opportunities."
MSG_RESUMED = "Welcome back. What you had typed has been saved in your draft."
MSG_RESUMED_FILES = " Files you chose before signing in again were not kept: attach them again."
MSG_SUPPORTED_INSTEAD = (
    "You now support {reference}. You will hear when it changes. "
    "What you had typed is kept as a draft in My opportunities if you still need it."
)
MSG_DRAFT_DELETED = "Draft {reference} deleted."
MSG_SIGNED_OUT = "You were signed out. Sign in again to carry on: what you typed will be kept."


def _new_key(request: HttpRequest, opp: Opportunity | None = None) -> str:
    token = (opp.form_token if opp else None) or uuid.uuid4()
    return form_key_make(
        token=token, user_id=request.user.pk, reference=opp.reference if opp else None
    )


def _page(
    request: HttpRequest,
    form: OpportunityForm,
    *,
    opp: Opportunity | None,
    form_key: str,
    status: int = 200,
    similar: list[Any] | None = None,
    attachment_errors: list[str] | None = None,
) -> HttpResponse:
    errors = form.error_list() if form.is_bound else []
    errors += [("attachments", message) for message in attachment_errors or []]
    context = {
        "form": form,
        "opportunity": opp,
        "form_key": form_key,
        "errors": errors,
        "attachment_errors": attachment_errors or [],
        "attachments": draft_attachments(opportunity=opp) if opp else [],
        "similar": similar,
        "accept": ACCEPT,
        "max_files": MAX_FILES,
        "max_file_size": human_size(MAX_FILE_BYTES),
        "steps": _steps_for(form),
        "steps_url": reverse("opportunities:steps"),
        "options": {
            name: form.options(name)
            for name in (
                "journey",
                "applications",
                "people",
                "frequency",
                "minutes",
                "department",
                "dna_themes",
                "classification",
                "show_name",
            )
        },
        "supported": supported_ids(
            user=request.user, opportunity_ids=[m.opportunity.pk for m in similar or []]
        ),
    }
    return render(request, "opportunities/new.html", context, status=status)


def _steps_for(form: OpportunityForm) -> dict[str, Any]:
    """The step choice: just the chosen journey's steps, or all of them grouped by journey."""
    journey_id = form["journey"].value()
    journey = None
    if journey_id not in (None, ""):
        journey = (
            Journey.objects.filter(pk=journey_id, is_active=True).first()
            if str(journey_id).isdigit()
            else None
        )
    chosen = form["step"].value()
    return _step_context(journey=journey, chosen=str(chosen or ""), form=form)


def _step_context(
    *, journey: Journey | None, chosen: str, form: OpportunityForm | None = None
) -> dict[str, Any]:
    if journey is not None:
        steps = JourneyStep.objects.filter(journey=journey, retired_at__isnull=True).order_by(
            "position"
        )
        groups = [(journey, list(steps))]
    else:
        groups = (form or OpportunityForm()).steps_by_journey()
    errors = list(form.errors.get("step", [])) if form is not None and form.is_bound else []
    return {"journey": journey, "groups": groups, "chosen": chosen, "errors": errors}


def _stash_for_resume(request: HttpRequest) -> str | None:
    """Keep a signed-out person's answers in their (new) session; the way back is returned.

    Only a form key signed for a real user is accepted, and only that user gets the answers
    back after signing in, so someone else signing in on the same browser gets nothing.
    """
    key = form_key_read(request.POST.get("form_key"))
    if key is None or key.user_id is None:
        return None
    data = {k: request.POST.getlist(k) for k in request.POST if k not in ("csrfmiddlewaretoken",)}
    request.session[PENDING_SESSION_KEY] = {
        "form_key": request.POST.get("form_key"),
        "data": data,
        "had_files": bool(request.FILES),
        "at": timezone.now().isoformat(),
    }
    return reverse("opportunities:resume")


def _signed_out_post(request: HttpRequest) -> HttpResponse:
    resume = _stash_for_resume(request) or reverse("opportunities:new")
    return redirect_to_login(resume)


@require_http_methods(["GET", "POST"])
@limited("submit")
def new(request: HttpRequest) -> HttpResponse:
    """A blank form (GET), or the form posted: submit, save draft, attach, support instead."""
    if not request.user.is_authenticated:
        if request.method == "POST":
            return _signed_out_post(request)
        return redirect_to_login(request.get_full_path())
    if not can(request.user, Action.SUBMIT):
        raise PermissionDenied
    if request.method == "GET":
        form = OpportunityForm(initial=OpportunityForm.initial_from(None, user=request.user))
        return _page(request, form, opp=None, form_key=_new_key(request))
    key = form_key_read(request.POST.get("form_key"))
    if key is None or key.user_id != request.user.pk:
        # A missing or someone else's key: treat the post as a new form of this person's.
        key = FormKey(token=uuid.uuid4(), user_id=request.user.pk, reference=None)
    opp = None
    if key.reference:
        opp = Opportunity.objects.filter(reference=key.reference).first()
    if opp is None:
        opp = Opportunity.objects.filter(submitter=request.user, form_token=key.token).first()
    return _handle_post(request, opp=opp, token=key.token)


@require_http_methods(["GET", "POST"])
@limited("submit")
def edit(request: HttpRequest, reference: str) -> HttpResponse:
    """Carry on with a draft. Someone else's draft is a 403; a submitted one goes to its page."""
    if not request.user.is_authenticated:
        if request.method == "POST":
            return _signed_out_post(request)
        return redirect_to_login(request.get_full_path())
    opp = get_object_or_404(Opportunity, reference=reference)
    if not can(request.user, Action.EDIT_DRAFT, opp):
        if opp.submitter_id == request.user.pk:
            return redirect("opportunities:detail", reference=opp.reference)
        raise PermissionDenied
    if request.method == "GET":
        form = OpportunityForm(initial=OpportunityForm.initial_from(opp, user=request.user))
        return _page(request, form, opp=opp, form_key=_new_key(request, opp))
    return _handle_post(request, opp=opp, token=opp.form_token)


def _handle_post(
    request: HttpRequest, *, opp: Opportunity | None, token: uuid.UUID | None
) -> HttpResponse:
    user = request.user
    action = request.POST.get("action", "submit")
    support_ref = request.POST.get("support", "")
    remove_id = request.POST.get("remove_attachment", "")
    uploads = request.FILES.getlist("attachments") if not support_ref else []
    submitting = action == "submit" and not support_ref and not remove_id
    form = OpportunityForm(request.POST, draft=not submitting)
    form.is_valid()
    target: dict[str, Any] = (
        {"opportunity_id": opp.pk} if opp is not None else {"form_token": token or uuid.uuid4()}
    )
    if opp is not None and opp.submitter_id != user.pk:
        raise PermissionDenied

    if submitting and form.is_valid() and not uploads:
        try:
            result = opportunity_submit(actor=user, values=form.service_values(), **target)
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            return redirect("opportunities:submitted", reference=result.opportunity.reference)

    saved = _save_what_was_typed(request, form=form, target=target, submitting=submitting)
    if isinstance(saved, HttpResponse):
        return saved
    opp = saved
    form_key = form_key_make(
        token=opp.form_token or uuid.uuid4(), user_id=user.pk, reference=opp.reference
    )

    if support_ref:
        return _support_instead(request, support_ref)
    if remove_id.isdigit():
        attachment = opp.attachments.filter(pk=int(remove_id)).first()
        if attachment is not None:
            attachment_remove(actor=user, attachment_id=attachment.pk)
    attachment_errors = attachments_add(actor=user, opportunity_id=opp.pk, uploads=uploads).errors

    if action == "similar":
        similar = opportunity_similar(
            user=user,
            title=form.data.get("title", ""),
            problem=form.data.get("problem", ""),
            exclude_id=opp.pk,
        )
        return _page(request, form, opp=opp, form_key=form_key, similar=similar)
    if submitting and form.is_valid() and not attachment_errors:
        try:
            result = opportunity_submit(
                actor=user, values=form.service_values(), opportunity_id=opp.pk
            )
        except ValidationError as error:
            form.add_service_errors(error.message_dict)
        else:
            return redirect("opportunities:submitted", reference=result.opportunity.reference)
    if action == "save" and not attachment_errors and form.is_valid():
        messages.success(request, MSG_DRAFT_SAVED)
        return redirect("opportunities:edit", reference=opp.reference)
    failed = bool(attachment_errors) or (submitting and not form.is_valid())
    return _page(
        request,
        form,
        opp=opp,
        form_key=form_key,
        status=400 if failed else 200,
        attachment_errors=attachment_errors,
    )


def _save_what_was_typed(
    request: HttpRequest, *, form: OpportunityForm, target: dict[str, Any], submitting: bool
) -> Opportunity | HttpResponse:
    """Save every answer that passes validation as the draft; the rest stay on the page.

    Returns the draft, or where to go instead (the form was submitted already: a double
    click, or a second tab).
    """
    lenient = OpportunityForm(request.POST, draft=True) if submitting else form
    lenient.is_valid()
    values = lenient.service_values()
    try:
        try:
            return opportunity_draft_save(actor=request.user, values=values, **target).opportunity
        except ValidationError as error:  # a step of another journey: keep the rest
            form.add_service_errors(error.message_dict)
            values = {k: v for k, v in values.items() if k not in ("step_id", "journey_id")}
            return opportunity_draft_save(actor=request.user, values=values, **target).opportunity
    except ApplicationError as error:
        if error.extra.get("already_submitted"):
            return redirect("opportunities:submitted", reference=error.extra["reference"])
        raise PermissionDenied(error.message) from error


def _support_instead(request: HttpRequest, reference: str) -> HttpResponse:
    existing = Opportunity.objects.filter(reference=reference).first()
    if existing is None or not can(request.user, Action.SUPPORT, existing):
        raise Http404
    try:
        opportunity_support(actor=request.user, opportunity_id=existing.pk)
    except ApplicationError as error:
        messages.info(request, error.message)
    else:
        messages.success(request, MSG_SUPPORTED_INSTEAD.format(reference=existing.reference))
    return redirect("opportunities:detail", reference=existing.reference)


@require_POST
@limited("write")
def autosave(request: HttpRequest) -> HttpResponse:
    """htmx: save the draft while the person types (every few seconds, only on changes)."""
    if not request.user.is_authenticated:
        resume = _stash_for_resume(request)
        login = reverse("accounts:login")
        if resume:
            login += "?" + urlencode({"next": resume})
        return render(
            request,
            "opportunities/partials/autosave_status.html",
            {"signed_out": True, "login_url": login},
        )
    key = form_key_read(request.POST.get("form_key"))
    if key is None or key.user_id != request.user.pk:
        return render(
            request, "opportunities/partials/autosave_status.html", {"failed": True}, status=400
        )
    opp = Opportunity.objects.filter(reference=key.reference).first() if key.reference else None
    target: dict[str, Any] = {"opportunity_id": opp.pk} if opp else {"form_token": key.token}
    form = OpportunityForm(request.POST, draft=True)
    form.is_valid()
    values = form.service_values()
    try:
        try:
            result = opportunity_draft_save(actor=request.user, values=values, **target)
        except ValidationError:
            values = {k: v for k, v in values.items() if k not in ("step_id", "journey_id")}
            result = opportunity_draft_save(actor=request.user, values=values, **target)
    except ApplicationError as error:
        if error.extra.get("already_submitted"):
            return render(
                request,
                "opportunities/partials/autosave_status.html",
                {"submitted_reference": error.extra["reference"]},
            )
        raise PermissionDenied(error.message) from error
    context = {
        "saved_at": timezone.localtime(),
        "opportunity": result.opportunity,
        "unsaved": [(name, errors[0]) for name, errors in form.errors.items()],
        "labels": {name: f.label or name for name, f in form.fields.items()},
    }
    response = render(request, "opportunities/partials/autosave_status.html", context)
    if result.created:
        response["HX-Replace-Url"] = reverse(
            "opportunities:edit", kwargs={"reference": result.opportunity.reference}
        )
    return response


@require_GET
def steps(request: HttpRequest) -> HttpResponse:
    """htmx: the step choice for the journey just chosen."""
    if not can(request.user, Action.SUBMIT):
        raise PermissionDenied
    journey_id = request.GET.get("journey", "")
    journey = (
        Journey.objects.filter(pk=int(journey_id), is_active=True).first()
        if journey_id.isdigit()
        else None
    )
    context = {"steps": _step_context(journey=journey, chosen="")}
    return render(request, "opportunities/partials/step_field.html", context)


@require_POST
@limited("search")
def similar(request: HttpRequest) -> HttpResponse:
    """htmx: up to five existing opportunities like the one being typed (POST: the text is
    police information and stays out of URLs and logs)."""
    if not request.user.is_authenticated:
        # Signed out mid-typing: the autosave status says so; suggestions simply stop.
        return HttpResponse("")
    if not can(request.user, Action.SUBMIT):
        raise PermissionDenied
    key = form_key_read(request.POST.get("form_key"))
    exclude_id = None
    if key is not None and key.user_id == request.user.pk:
        exclude_id = (
            Opportunity.objects.filter(submitter=request.user)
            .filter(
                **({"reference": key.reference} if key.reference else {"form_token": key.token})
            )
            .values_list("pk", flat=True)
            .first()
        )
    matches = opportunity_similar(
        user=request.user,
        title=request.POST.get("title", ""),
        problem=request.POST.get("problem", ""),
        exclude_id=exclude_id,
    )
    context = {
        "similar": matches,
        "oob": True,
        "supported": supported_ids(
            user=request.user, opportunity_ids=[m.opportunity.pk for m in matches]
        ),
    }
    return render(request, "opportunities/partials/similar.html", context)


@require_GET
def submitted(request: HttpRequest, reference: str) -> HttpResponse:
    """The confirmation: reference, what happens next and the typical time to triage."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    opp = get_object_or_404(Opportunity.objects.defer("search_vector"), reference=reference)
    if opp.submitter_id != request.user.pk or not can(request.user, Action.VIEW, opp):
        raise Http404
    if opp.status == Status.DRAFT:
        return redirect("opportunities:edit", reference=opp.reference)
    context = {
        "opportunity": opp,
        "typical_days": typical_days_to_triage(),
        "triage_working_days": TRIAGE_WORKING_DAYS,
    }
    return render(request, "opportunities/submitted.html", context)


@require_GET
def resume(request: HttpRequest) -> HttpResponse:
    """After signing in again: put back what was typed when the session ran out."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    pending = request.session.pop(PENDING_SESSION_KEY, None)
    key = form_key_read((pending or {}).get("form_key"))
    if not pending or key is None or key.user_id != request.user.pk:
        return redirect("opportunities:new")
    data = QueryDict(mutable=True)
    for name, values in pending.get("data", {}).items():
        data.setlist(name, values)
    form = OpportunityForm(data, draft=True)
    form.is_valid()
    opp = Opportunity.objects.filter(reference=key.reference).first() if key.reference else None
    target: dict[str, Any] = {"opportunity_id": opp.pk} if opp else {"form_token": key.token}
    try:
        result = opportunity_draft_save(actor=request.user, values=form.service_values(), **target)
    except ApplicationError as error:
        if error.extra.get("already_submitted"):
            return redirect("opportunities:detail", reference=error.extra["reference"])
        raise PermissionDenied(error.message) from error
    except ValidationError:
        values = {
            k: v for k, v in form.service_values().items() if k not in ("step_id", "journey_id")
        }
        result = opportunity_draft_save(actor=request.user, values=values, **target)
    messages.success(request, MSG_RESUMED + (MSG_RESUMED_FILES if pending.get("had_files") else ""))
    return redirect("opportunities:edit", reference=result.opportunity.reference)


@require_POST
@limited("write")
def draft_delete(request: HttpRequest, reference: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("opportunities:me"))
    opp = get_object_or_404(Opportunity, reference=reference)
    if not can(request.user, Action.EDIT_DRAFT, opp):
        raise PermissionDenied
    opportunity_draft_delete(actor=request.user, opportunity_id=opp.pk)
    messages.success(request, MSG_DRAFT_DELETED.format(reference=reference))
    if request.htmx:
        return HttpResponseClientRedirect(reverse("opportunities:me"))
    return redirect("opportunities:me")
