"""Error pages in the portal's own design (plain context: they must never fail themselves)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader


def _render(request: HttpRequest, template: str, status: int) -> HttpResponse:
    try:
        body = loader.render_to_string(template, {}, request)
    except Exception:  # noqa: BLE001 - the error page itself must not raise
        body = f"<h1>Error {status}</h1>"
    return HttpResponse(body, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from synergy_portal.security_log import security_event

    security_event("permission.denied", request=request, outcome="denied")
    return _render(request, "errors/403.html", 403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _render(request, "errors/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the database may be what failed, and context processors query it.
    try:
        body = loader.render_to_string("errors/500.html", {"request": None})
    except Exception:  # noqa: BLE001 - the error page itself must not raise
        body = "<h1>Sorry, something went wrong</h1>"
    return HttpResponse(body, status=500)
