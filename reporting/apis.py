"""The DDI service's API: list extract batches, download their files."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reporting.models import EtlBatch
from reporting.selectors import batch_file_path, batch_files, batch_get, batch_list
from synergy_portal.api_auth import requires
from synergy_portal.permissions import Action

MSG_NO_BATCH = "No such extract batch."
MSG_NO_FILE = "This batch has no file of that name."
CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
}


class ExtractBatchListApi(APIView):
    """Extract batches, newest first, with their window, row counts and files."""

    permission_classes = [requires(Action.READ_EXTRACTS)]

    class FileSerializer(serializers.Serializer):
        name = serializers.CharField()
        sha256 = serializers.CharField(allow_null=True)
        url = serializers.CharField()

        class Meta:
            ref_name = "ExtractFile"

    class OutputSerializer(serializers.Serializer):
        batch_id = serializers.UUIDField()
        kind = serializers.CharField()
        state = serializers.CharField()
        schema_version = serializers.CharField()
        watermark_from = serializers.IntegerField(allow_null=True)
        watermark_to = serializers.IntegerField(allow_null=True)
        as_of = serializers.DateField(allow_null=True)
        rows = serializers.DictField(child=serializers.IntegerField())
        started_at = serializers.DateTimeField()
        finished_at = serializers.DateTimeField(allow_null=True)
        files = serializers.SerializerMethodField()

        class Meta:
            ref_name = "ExtractBatch"

        def get_files(self, batch: EtlBatch) -> list[dict[str, Any]]:
            if batch.state != EtlBatch.State.SUCCEEDED:
                return []
            return [
                {
                    "name": f.name,
                    "sha256": f.sha256,
                    "url": reverse(
                        "reporting:api_extract_file",
                        kwargs={"batch_id": batch.batch_id, "name": f.name},
                    ),
                }
                for f in batch_files(batch)
            ]

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=EtlBatch.State.values),
            OpenApiParameter("kind", str, enum=EtlBatch.Kind.values),
        ],
        responses=OutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state") or None
        kind = request.query_params.get("kind") or None
        if state not in (None, *EtlBatch.State.values) or kind not in (None, *EtlBatch.Kind.values):
            return Response({"detail": "Unknown state or kind."}, status=400)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(batch_list(state=state, kind=kind), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ExtractFileApi(APIView):
    """One file of a successful batch: a CSV or Parquet table, or its datapackage.json."""

    permission_classes = [requires(Action.READ_EXTRACTS)]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request: Request, batch_id: uuid.UUID, name: str) -> FileResponse:
        batch = batch_get(batch_id=batch_id)
        if batch is None:
            raise NotFound(MSG_NO_BATCH)
        path = batch_file_path(batch=batch, name=name)
        if path is None:
            raise NotFound(MSG_NO_FILE)
        response = FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=name,
            content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
        )
        response["Cache-Control"] = "private, no-store"
        return response
