"""Liveness and readiness probes."""

from __future__ import annotations

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving requests; checks nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database(alias: str) -> str | None:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        connections[alias].close()
        return f"{type(exc).__name__}: {exc}".strip()[:300]
    return None


def _check_broker() -> str | None:
    import redis

    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
    )
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}".strip()[:300]
    finally:
        client.close()
    return None


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the portal database, the reporting database and the broker answer."""
    checks = {
        "database": _check_database("default"),
        "reporting_database": _check_database("reporting"),
        "broker": _check_broker(),
    }
    down = {name: error for name, error in checks.items() if error}
    body = {
        "status": "unavailable" if down else "ok",
        "checks": {name: ("down" if error else "ok") for name, error in checks.items()},
    }
    if down:
        body["down"] = sorted(down)
        body["errors"] = down
    return JsonResponse(body, status=503 if down else 200)
