"""API endpoints of the identity part of the portal."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from synergy_portal.permissions import roles_of


class MeApi(APIView):
    """Who the caller is, as the portal sees them: for API clients to check their set-up."""

    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())

        class Meta:
            ref_name = "Me"

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        roles = sorted(role.value for role in roles_of(request.user))
        data = self.OutputSerializer({"username": request.user.get_username(), "roles": roles}).data
        return Response(data)
