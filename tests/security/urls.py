"""The portal's URLs plus a role-restricted probe API, for the API authentication tests."""

from __future__ import annotations

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from synergy_portal.api_auth import requires
from synergy_portal.permissions import Action
from synergy_portal.urls import urlpatterns as portal_urlpatterns


class ExtractsProbeApi(APIView):
    permission_classes = [IsAuthenticated, requires(Action.READ_EXTRACTS)]

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [
    *portal_urlpatterns,
    path("test-only/extracts/", ExtractsProbeApi.as_view()),
]
