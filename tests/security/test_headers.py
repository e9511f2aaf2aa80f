"""Security headers and a strict CSP on every page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from synergy_portal.models import Role
from tests.synergy_portal.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]


def _plain_get_routes() -> list[str]:
    """Every route without parameters (admin and API schema views excluded)."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                if route.startswith("admin/"):
                    continue
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern) and "<" not in route and "(?P" not in route:
                found.append("/" + prefix + route.lstrip("^").rstrip("$"))

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def _assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db(databases=["default", "reporting"])
def test_every_plain_page_has_security_headers_and_no_store_when_signed_in(client) -> None:
    admin = UserFactory(roles={Role.ADMIN}, is_staff=True, is_superuser=True)
    client.force_login(admin)
    routes = _plain_get_routes()
    assert "/" in routes and "/accounts/login/" in routes
    checked = 0
    for route in routes:
        response = client.get(route)
        if response.status_code in (405,):
            continue
        assert response.status_code < 500, route
        _assert_security_headers(response)
        if not route.startswith(("/healthz", "/readyz", "/static")):
            assert "no-store" in response["Cache-Control"], route
        checked += 1
    assert checked >= 3


@pytest.mark.django_db(databases=["default", "reporting"])
def test_signed_out_pages_have_security_headers_too(client) -> None:
    for route in ("/", "/accounts/login/", "/no-such-page/"):
        _assert_security_headers(client.get(route))


def test_production_settings_use_host_prefixed_secure_cookies_and_hsts() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "synergy_portal.settings",
        "SECRET_KEY": "p" * 64,
        "ALLOWED_HOSTS": "synergy.police.example",
        "DATABASE_URL": "postgres://x@127.0.0.1:1/x",
        "REDIS_URL": "redis://127.0.0.1:1/0",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
        "31536000",
        "True",
    ]
