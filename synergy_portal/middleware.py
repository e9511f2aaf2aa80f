"""Cross-cutting request handling."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

IDLE_KEY = "synergy_last_seen"


class NoStoreForSignedInMiddleware:
    """Signed-in pages hold police data: never cache them. Also enforces the idle time-out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            import time

            now = int(time.time())
            last_seen = request.session.get(IDLE_KEY)
            if last_seen is not None and now - int(last_seen) > settings.SESSION_IDLE_SECONDS:
                logout(request)
            elif last_seen is None or now - int(last_seen) > 60:
                request.session[IDLE_KEY] = now
        response = self.get_response(request)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response
