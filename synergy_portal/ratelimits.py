"""Rate limits (django-ratelimit, counted in Redis) and the 429 answer.

Views use :func:`limited` with one of the named budgets, so the numbers live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django_ratelimit.decorators import ratelimit

from synergy_portal.security_log import security_event

RETRY_AFTER_SECONDS = 60
MSG_TOO_MANY = "Too many requests. Please wait a minute and try again."

# name: (key, rate). Keys: per signed-in user where there is one, else per client address.
BUDGETS: dict[str, tuple[str, str]] = {
    # Officers at one station share an address at shift change: the SSO budget is generous
    # (Entra ID throttles too); the developer sign-in is tight.
    "sso": ("ip", "300/m"),
    "signin": ("ip", "20/m"),
    "submit": ("synergy_portal.ratelimits.user_or_ip", "10/m"),
    "comment": ("synergy_portal.ratelimits.user_or_ip", "20/m"),
    "search": ("synergy_portal.ratelimits.user_or_ip", "120/m"),
    "api_write": ("synergy_portal.ratelimits.user_or_ip", "60/m"),
    "write": ("synergy_portal.ratelimits.user_or_ip", "120/m"),
}


def limited(budget: str, *, method: str | list[str] = "POST") -> Callable[[Any], Any]:
    key, rate = BUDGETS[budget]
    rate = getattr(settings, "RATELIMIT_RATES", {}).get(budget, rate)
    return ratelimit(group=f"synergy.{budget}", key=key, rate=rate, method=method, block=True)


def user_or_ip(group: str, request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def too_many_requests(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    security_event("ratelimit.exceeded", request=request, outcome="refused")
    response: HttpResponse
    if request.path.startswith("/api/") or request.headers.get("Accept") == "application/json":
        response = JsonResponse(
            {"detail": MSG_TOO_MANY, "retry_after": RETRY_AFTER_SECONDS}, status=429
        )
    else:
        try:
            body = loader.render_to_string("errors/429.html", {"message": MSG_TOO_MANY}, request)
        except Exception:  # noqa: BLE001 - the error page itself must not raise
            body = f"<h1>{MSG_TOO_MANY}</h1>"
        response = HttpResponse(body, status=429)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
