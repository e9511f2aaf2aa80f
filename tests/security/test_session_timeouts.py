"""Sessions end after a shift (absolute) or after an idle hour."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from synergy_portal.middleware import IDLE_KEY
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db


def _set_last_seen(client, seconds_ago: int) -> None:  # type: ignore[no-untyped-def]
    session = client.session
    session[IDLE_KEY] = int(time.time()) - seconds_ago
    session.save()


def test_an_idle_session_is_signed_out(client) -> None:
    client.force_login(UserFactory())
    _set_last_seen(client, settings.SESSION_IDLE_SECONDS + 5)
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_an_active_session_stays_signed_in(client) -> None:
    client.force_login(UserFactory())
    _set_last_seen(client, settings.SESSION_IDLE_SECONDS - 120)
    assert client.get("/me/").status_code == 200
    assert client.session[IDLE_KEY] >= int(time.time()) - 5  # activity refreshes the clock


def test_the_absolute_lifetime_is_a_shift() -> None:
    assert settings.SESSION_COOKIE_AGE == 10 * 3600
    assert settings.SESSION_IDLE_SECONDS == 3600
