from __future__ import annotations

from django.urls import path

from reporting.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("", views.dashboard_page, name="index"),
    path("<slug:section>/", views.dashboard_page, name="section"),
    path("<slug:section>/<slug:chart>.csv", views.dashboard_csv, name="csv"),
]
