"""Support, follow and comments on the opportunity page: htmx swaps one region of the page;
without JavaScript each is a plain form post that returns to the page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opportunities.errors import ApplicationError
from opportunities.forms import CommentForm, HideCommentForm
from opportunities.models import Comment, Opportunity
from opportunities.selectors import opportunity_get
from opportunities.services.engagement import (
    comment_add,
    comment_edit,
    comment_hide,
    opportunity_follow,
    opportunity_support,
    opportunity_unfollow,
    opportunity_unsupport,
)
from opportunities.views.detail import detail_context
from synergy_portal.permissions import Action, can
from synergy_portal.ratelimits import limited


def _visible(request: HttpRequest, reference: str) -> Opportunity:
    try:
        return opportunity_get(user=request.user, reference=reference)
    except Opportunity.DoesNotExist as missing:
        raise Http404 from missing


def _region(
    request: HttpRequest,
    reference: str,
    region: str,
    *,
    error: str = "",
    comment_form: CommentForm | None = None,
) -> HttpResponse:
    """The page region for htmx, or back to the page (at the region) without it."""
    if request.htmx:
        context = {**detail_context(request, reference), "region_error": error}
        status = 200
        if comment_form is not None:
            context["comment_form"] = comment_form
            status = 400
        return render(request, f"opportunities/detail.html#{region}", context, status=status)
    if error:
        messages.error(request, error)
    url = reverse("opportunities:detail", kwargs={"reference": reference})
    return redirect(f"{url}#{region}")


def _toggle(request: HttpRequest, reference: str, action: Action, service) -> HttpResponse:  # type: ignore[no-untyped-def]
    opp = _visible(request, reference)
    if not can(request.user, action, opp):
        raise PermissionDenied
    try:
        service(actor=request.user, opportunity_id=opp.pk)
    except ApplicationError as error:
        if error.extra.get("forbidden"):
            raise PermissionDenied(error.message) from error
        return _region(request, reference, "engagement", error=error.message)
    return _region(request, reference, "engagement")


@login_required
@require_POST
@limited("write")
def support(request: HttpRequest, reference: str) -> HttpResponse:
    return _toggle(request, reference, Action.SUPPORT, opportunity_support)


@login_required
@require_POST
@limited("write")
def unsupport(request: HttpRequest, reference: str) -> HttpResponse:
    return _toggle(request, reference, Action.VIEW, opportunity_unsupport)


@login_required
@require_POST
@limited("write")
def follow(request: HttpRequest, reference: str) -> HttpResponse:
    return _toggle(request, reference, Action.FOLLOW, opportunity_follow)


@login_required
@require_POST
@limited("write")
def unfollow(request: HttpRequest, reference: str) -> HttpResponse:
    return _toggle(request, reference, Action.VIEW, opportunity_unfollow)


@login_required
@require_POST
@limited("comment")
def comment_create(request: HttpRequest, reference: str) -> HttpResponse:
    opp = _visible(request, reference)
    if not can(request.user, Action.COMMENT, opp):
        raise PermissionDenied
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment_add(actor=request.user, opportunity_id=opp.pk, body=form.cleaned_data["body"])
        except ApplicationError as error:
            form.add_error("body", error.message)
        else:
            return _region(request, reference, "comments")
    if request.htmx:
        return _region(request, reference, "comments", comment_form=form)
    context = {**detail_context(request, reference), "comment_form": form}
    return render(request, "opportunities/detail.html", context, status=400)


def _own_comment(request: HttpRequest, reference: str, comment_id: int) -> Comment:
    opp = _visible(request, reference)
    return get_object_or_404(Comment, pk=comment_id, opportunity=opp)


@login_required
@require_POST
@limited("comment")
def comment_update(request: HttpRequest, reference: str, comment_id: int) -> HttpResponse:
    comment = _own_comment(request, reference, comment_id)
    if comment.author_id != request.user.pk:
        raise PermissionDenied
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _region(request, reference, "comments", error=form.errors["body"][0])
    try:
        comment_edit(actor=request.user, comment_id=comment.pk, body=form.cleaned_data["body"])
    except ApplicationError as error:
        if error.extra.get("forbidden"):
            raise PermissionDenied(error.message) from error
        return _region(request, reference, "comments", error=error.message)
    return _region(request, reference, "comments")


@login_required
@require_POST
@limited("write")
def comment_moderate(request: HttpRequest, reference: str, comment_id: int) -> HttpResponse:
    comment = _own_comment(request, reference, comment_id)
    if not can(request.user, Action.MODERATE_COMMENT):
        raise PermissionDenied
    form = HideCommentForm(request.POST)
    if not form.is_valid():
        return _region(request, reference, "comments", error=form.errors["reason"][0])
    try:
        comment_hide(actor=request.user, comment_id=comment.pk, reason=form.cleaned_data["reason"])
    except ApplicationError as error:
        raise PermissionDenied(error.message) from error
    return _region(request, reference, "comments")
