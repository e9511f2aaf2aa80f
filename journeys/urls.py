"""Routes of the journeys app (included at the site root)."""

from __future__ import annotations

from django.urls import path

from journeys.views import catalogue, editor, portfolio

app_name = "journeys"
urlpatterns = [
    path("journeys/", catalogue.journey_catalogue, name="list"),
    path("journeys/<slug:slug>/", catalogue.journey_map_page, name="map"),
    path("journeys/<slug:slug>/edit/", editor.journey_edit, name="edit"),
    path("journeys/<slug:slug>/steps/add/", editor.step_add, name="step_add"),
    path("journeys/<slug:slug>/steps/reorder/", editor.steps_reorder, name="steps_reorder"),
    path("journeys/<slug:slug>/steps/<int:step_id>/", editor.step_update, name="step_update"),
    path("journeys/<slug:slug>/steps/<int:step_id>/move/", editor.step_move, name="step_move"),
    path(
        "journeys/<slug:slug>/steps/<int:step_id>/retire/", editor.step_retire, name="step_retire"
    ),
    path(
        "journeys/<slug:slug>/steps/<int:step_id>/restore/",
        editor.step_restore,
        name="step_restore",
    ),
    path(
        "journeys/<slug:slug>/steps/<int:step_id>/delete/", editor.step_delete, name="step_delete"
    ),
    path("applications/", portfolio.application_portfolio_page, name="applications"),
]
