from __future__ import annotations

from django.urls import path

from reporting import apis
from reporting.views import extracts

app_name = "reporting"

urlpatterns = [
    path("api/v1/extracts/", apis.ExtractBatchListApi.as_view(), name="api_extracts"),
    path(
        "api/v1/extracts/<uuid:batch_id>/files/<str:name>",
        apis.ExtractFileApi.as_view(),
        name="api_extract_file",
    ),
    path("reporting/extracts/", extracts.extracts_page, name="extracts"),
    path("reporting/extracts/run/", extracts.extract_run_now, name="extract_run"),
]
