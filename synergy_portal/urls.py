from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from synergy_portal.views import accounts, health, home

handler403 = "synergy_portal.views.errors.forbidden"
handler404 = "synergy_portal.views.errors.not_found"
handler500 = "synergy_portal.views.errors.server_error"

accounts_patterns = (
    [
        path("login/", accounts.login_page, name="login"),
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
    path("admin/", admin.site.urls),
]
