from __future__ import annotations

import pytest
from django.db import connections

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])


def test_healthz_answers_without_touching_services(client, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_everything_answers(client, celery_broker) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "reporting_database": "ok", "broker": "ok"}


def test_readyz_names_the_broker_when_redis_is_stopped(client, celery_broker) -> None:
    celery_broker.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["down"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert "Connection" in body["errors"]["broker"]


@pytest.mark.django_db(transaction=True, databases=["default", "reporting"])
def test_readyz_names_the_reporting_database_when_it_is_unreachable(client, celery_broker) -> None:
    reporting = connections["reporting"]
    saved = dict(reporting.settings_dict)
    reporting.close()
    reporting.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        response = client.get("/readyz")
    finally:
        reporting.close()
        reporting.settings_dict.clear()
        reporting.settings_dict.update(saved)
    assert response.status_code == 503
    assert response.json()["down"] == ["reporting_database"]
