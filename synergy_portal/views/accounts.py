"""Sign-in pages. Entra ID single sign-on, plus the developer sign-in for demo users."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from synergy_portal.demo_users import DEMO_USERS

DEV_LOGIN_UNKNOWN_USER = "Choose one of the demo users listed."


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@require_GET
def login_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/login.html",
        {
            "next": _safe_next(request),
            "entra_configured": bool(settings.ENTRA_CLIENT_ID and settings.ENTRA_AUTHORITY),
            "demo_users": DEMO_USERS if settings.SYNERGY_DEV_LOGIN else [],
        },
    )


@require_http_methods(["POST"])
def dev_login(request: HttpRequest) -> HttpResponse:
    """Sign in as a demo user. Exists only when SYNERGY_DEV_LOGIN=1 (never in production)."""
    if not settings.SYNERGY_DEV_LOGIN:
        raise Http404
    username = request.POST.get("username", "")
    known = {demo.username for demo in DEMO_USERS}
    user = None
    if username in known:
        user = get_user_model().objects.filter(username=username, is_demo=True).first()
    if user is None:
        return render(
            request,
            "accounts/login.html",
            {
                "next": _safe_next(request),
                "entra_configured": bool(settings.ENTRA_CLIENT_ID),
                "demo_users": DEMO_USERS,
                "error": DEV_LOGIN_UNKNOWN_USER,
            },
            status=400,
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(_safe_next(request))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
