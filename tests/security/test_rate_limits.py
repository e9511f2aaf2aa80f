"""Rate limits answer 429 with Retry-After (HTML for pages, JSON for the API)."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from synergy_portal.ratelimits import MSG_TOO_MANY, RETRY_AFTER_SECONDS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def test_dev_sign_in_is_limited_per_address(client) -> None:
    statuses = [
        client.post(
            "/accounts/dev-login/", {"username": "nobody"}, REMOTE_ADDR="10.9.8.7"
        ).status_code
        for _ in range(21)
    ]
    assert statuses[:20] == [400] * 20
    assert statuses[20] == 429
    limited = client.post("/accounts/dev-login/", {"username": "nobody"}, REMOTE_ADDR="10.9.8.7")
    assert limited["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert MSG_TOO_MANY.encode() in limited.content
    # Another address is unaffected.
    assert (
        client.post("/accounts/dev-login/", {"username": "x"}, REMOTE_ADDR="10.9.8.8").status_code
        == 400
    )


def test_api_refusal_is_json(rf) -> None:
    from synergy_portal.ratelimits import too_many_requests

    response = too_many_requests(rf.post("/api/v1/anything/"))
    assert response.status_code == 429
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert json.loads(response.content) == {
        "detail": MSG_TOO_MANY,
        "retry_after": RETRY_AFTER_SECONDS,
    }
