"""The opportunity page (/opportunities/<ref>/), its attachments and the submitter's withdraw."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from opportunities.errors import ApplicationError
from opportunities.forms import (
    FREQUENCY_CHOICES,
    MINUTES_CHOICES,
    PEOPLE_CHOICES,
    CommentForm,
    choice_label,
)
from opportunities.models import Attachment, Opportunity, Status
from opportunities.selectors import opportunity_get, opportunity_page
from opportunities.selectors_audit import opportunity_audit_history
from opportunities.services.attachments import IMAGE_KINDS, KINDS
from opportunities.services.engagement import comment_editable
from opportunities.services.workflow import opportunity_transition
from synergy_portal.permissions import Action, can
from synergy_portal.ratelimits import limited

INLINE_TYPES = frozenset(KINDS[kind][2] for kind in IMAGE_KINDS)
MSG_WITHDRAWN = "{reference} has been withdrawn."


def detail_context(request: HttpRequest, reference: str) -> dict[str, object]:
    """The page's context; the engagement views re-render regions of it."""
    try:
        page = opportunity_page(user=request.user, reference=reference)
    except Opportunity.DoesNotExist as missing:
        raise Http404 from missing
    opp = page.opportunity
    if not can(request.user, Action.VIEW, opp):
        raise Http404
    user = request.user
    return {
        "page": page,
        "opportunity": opp,
        "score": page.score,
        "score_history": page.score_history,
        "calibration": page.calibration,
        "comment_form": CommentForm(),
        "editable_comment_ids": {c.pk for c in page.comments if comment_editable(c, user)},
        "friendly": {
            "people": choice_label(opp.people_affected, PEOPLE_CHOICES),
            "frequency": choice_label(opp.frequency_per_week, FREQUENCY_CHOICES),
            "minutes": choice_label(opp.minutes_per_occurrence, MINUTES_CHOICES),
        },
        "may": {
            "support": can(user, Action.SUPPORT, opp)
            and opp.submitter_id != user.pk
            and opp.status not in (Status.DRAFT, Status.DUPLICATE, Status.WITHDRAWN),
            # The submitter always hears about their own opportunity.
            "follow": can(user, Action.FOLLOW, opp)
            and opp.status != Status.DRAFT
            and opp.submitter_id != user.pk,
            "comment": can(user, Action.COMMENT, opp) and opp.status != Status.DRAFT,
            "moderate": can(user, Action.MODERATE_COMMENT),
            "edit_draft": can(user, Action.EDIT_DRAFT, opp),
            "withdraw": can(user, Action.WITHDRAW, opp) and opp.status != Status.DRAFT,
        },
        # The field-level audit trail is for the CI team and admins (who see everything).
        "audit_history": opportunity_audit_history(opportunity=opp)
        if can(user, Action.TRIAGE)
        else None,
    }


@login_required
@require_GET
def detail(request: HttpRequest, reference: str) -> HttpResponse:
    context = detail_context(request, reference)
    return render(request, "opportunities/detail.html", context)


@login_required
@require_GET
def attachment(request: HttpRequest, reference: str, attachment_id: int) -> FileResponse:
    """Serve a file only to people who may see its opportunity; never from a public URL."""
    try:
        opp = opportunity_get(user=request.user, reference=reference)
    except Opportunity.DoesNotExist as missing:
        raise Http404 from missing
    if not can(request.user, Action.VIEW, opp):
        raise Http404
    item = get_object_or_404(Attachment, pk=attachment_id, opportunity=opp)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    inline = item.content_type in INLINE_TYPES and request.GET.get("download") != "1"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=item.original_name,
        content_type=item.content_type,
    )
    # Even an image is never a page: no scripts, no plugins, no framing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
@limited("write")
def withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    opp = get_object_or_404(Opportunity.objects.defer("search_vector"), reference=reference)
    if not can(request.user, Action.WITHDRAW, opp):
        raise PermissionDenied
    reason = request.POST.get("reason", "").strip()[:500]
    try:
        opportunity_transition(
            actor=request.user, opportunity_id=opp.pk, to_status=Status.WITHDRAWN, reason=reason
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, MSG_WITHDRAWN.format(reference=opp.reference))
    return redirect("opportunities:detail", reference=opp.reference)
