"""Routes for submitting, the opportunity page, browsing and "my opportunities"."""

from __future__ import annotations

from django.urls import URLPattern, path, register_converter

from opportunities.views import browse, detail, engagement, me, submission


class ReferenceConverter:
    """SO-2026-00042: only references match, so other areas' /opportunities/<word>/ routes
    (the board, scoring) are never taken for an opportunity page."""

    regex = r"[A-Z]{2,4}-\d{4}-\d{5,}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "opp_ref")

urlpatterns: list[URLPattern] = [
    path("opportunities/", browse.browse, name="browse"),
    path("opportunities/new/", submission.new, name="new"),
    path("opportunities/new/steps/", submission.steps, name="steps"),
    path("opportunities/new/similar/", submission.similar, name="similar"),
    path("opportunities/new/autosave/", submission.autosave, name="autosave"),
    path("opportunities/new/resume/", submission.resume, name="resume"),
    path("opportunities/<opp_ref:reference>/", detail.detail, name="detail"),
    path("opportunities/<opp_ref:reference>/edit/", submission.edit, name="edit"),
    path("opportunities/<opp_ref:reference>/delete/", submission.draft_delete, name="draft_delete"),
    path("opportunities/<opp_ref:reference>/submitted/", submission.submitted, name="submitted"),
    path("opportunities/<opp_ref:reference>/withdraw/", detail.withdraw, name="withdraw"),
    path(
        "opportunities/<opp_ref:reference>/attachments/<int:attachment_id>/",
        detail.attachment,
        name="attachment",
    ),
    path("opportunities/<opp_ref:reference>/support/", engagement.support, name="support"),
    path("opportunities/<opp_ref:reference>/unsupport/", engagement.unsupport, name="unsupport"),
    path("opportunities/<opp_ref:reference>/follow/", engagement.follow, name="follow"),
    path("opportunities/<opp_ref:reference>/unfollow/", engagement.unfollow, name="unfollow"),
    path("opportunities/<opp_ref:reference>/comments/", engagement.comment_create, name="comment"),
    path(
        "opportunities/<opp_ref:reference>/comments/<int:comment_id>/edit/",
        engagement.comment_update,
        name="comment_edit",
    ),
    path(
        "opportunities/<opp_ref:reference>/comments/<int:comment_id>/hide/",
        engagement.comment_moderate,
        name="comment_hide",
    ),
    path("me/", me.me, name="me"),
    path("me/notifications/read/", me.notifications_read, name="notifications_read"),
]
