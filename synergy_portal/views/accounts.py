"""Sign-in pages. Entra ID single sign-on, plus the developer sign-in for demo users."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from synergy_portal import entra
from synergy_portal.demo_users import DEMO_USERS
from synergy_portal.ratelimits import limited

DEV_LOGIN_UNKNOWN_USER = "Choose one of the demo users listed."


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


def _login_page(
    request: HttpRequest, *, error: str = "", error_field: str = "", status: int = 200
) -> HttpResponse:
    """The sign-in page; ``error_field`` says what an error is about: "sso" or "username"."""
    context = {
        "next": _safe_next(request),
        "entra_configured": entra.sso_configured(),
        "demo_users": DEMO_USERS if settings.SYNERGY_DEV_LOGIN else [],
    }
    if error:
        context.update(error=error, error_field=error_field)
    return render(request, "accounts/login.html", context, status=status)


@require_GET
@limited("sso", method="GET")
def login_page(request: HttpRequest) -> HttpResponse:
    """The sign-in page; with ``?sso=1``, straight on to Entra ID's sign-in."""
    if request.GET.get("sso") != "1":
        return _login_page(request)
    try:
        authorize_url = entra.sign_in_begin(request, next_url=_safe_next(request))
    except entra.SignInRefused as refusal:
        return _login_page(request, error=refusal.message, error_field="sso", status=refusal.status)
    return redirect(authorize_url)


@require_GET
@limited("sso", method="GET")
def entra_callback(request: HttpRequest) -> HttpResponse:
    """Entra ID redirects here with ``code`` and ``state`` (or an ``error``)."""
    try:
        next_url = entra.sign_in_complete(request)
    except entra.SignInRefused as refusal:
        return _login_page(request, error=refusal.message, error_field="sso", status=refusal.status)
    return redirect(next_url)


@require_http_methods(["POST"])
@limited("signin")
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
        return _login_page(
            request, error=DEV_LOGIN_UNKNOWN_USER, error_field="username", status=400
        )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(_safe_next(request))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """Sign out here and, after an Entra ID sign-in, at Entra ID too."""
    return redirect(entra.sign_out(request))
