from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from synergy_portal import apis
from synergy_portal.views import accounts, health, home

handler403 = "synergy_portal.views.errors.forbidden"
handler404 = "synergy_portal.views.errors.not_found"
handler500 = "synergy_portal.views.errors.server_error"

accounts_patterns = (
    [
        path("login/", accounts.login_page, name="login"),
        path("callback/", accounts.entra_callback, name="callback"),
        path("dev-login/", accounts.dev_login, name="dev_login"),
        path("logout/", accounts.logout_view, name="logout"),
    ],
    "accounts",
)

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include(accounts_patterns)),
    path("api/v1/me/", apis.MeApi.as_view(), name="api_me"),
    path("", include("opportunities.urls")),
    path("", include("journeys.urls")),
    path("", include("reporting.urls")),
    path("dashboards/", include("reporting.dashboards.urls")),
    path("admin/", admin.site.urls),
]
