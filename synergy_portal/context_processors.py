from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, Any]:
    from synergy_portal.permissions import navigation_for

    return {
        "DEV_LOGIN_ENABLED": settings.SYNERGY_DEV_LOGIN,
        "nav_items": navigation_for(request.user, request.path),
    }
