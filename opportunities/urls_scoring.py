"""Scoring routes: the CI team's score form and the admins' scoring-model editor."""

from __future__ import annotations

from django.urls import path

from opportunities.views import scoring

urlpatterns = [
    path("opportunities/<str:reference>/score/", scoring.score_page, name="score"),
    path(
        "opportunities/<str:reference>/score/preview/",
        scoring.score_preview_view,
        name="score_preview",
    ),
    path("scoring-models/", scoring.scoring_models, name="scoring_models"),
    path("scoring-models/new/", scoring.scoring_model_new, name="scoring_model_new"),
    path("scoring-models/<int:version>/", scoring.scoring_model_detail, name="scoring_model"),
    path(
        "scoring-models/<int:version>/activate/",
        scoring.scoring_model_activate,
        name="scoring_model_activate",
    ),
    path(
        "scoring-models/<int:version>/progress/",
        scoring.rescore_progress,
        name="rescore_progress",
    ),
]
