"""The API's exception handler: DRF's own, plus a JSON 503 when a database the request needs
cannot be reached (the reporting database, say), instead of an HTML 500."""

from __future__ import annotations

import logging
from typing import Any

from django.db import OperationalError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

MSG_UNAVAILABLE = "A database this request needs cannot be reached just now; try again shortly."


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, OperationalError):
        logger.warning("API request failed: database unavailable", exc_info=exc)
        return Response(
            {"detail": MSG_UNAVAILABLE, "code": "unavailable"},
            status=503,
            headers={"Retry-After": "60"},
        )
    return exception_handler(exc, context)
