"""Entra ID against a local fake identity provider (tests/fake_idp.py), over real HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from synergy_portal import entra
from tests.fake_idp import FakeIdentityProvider

TENANT_ID = "3f1b0c8e-7d6a-4c2b-9e51-0a4d2b6c8e10"
OTHER_TENANT_ID = "0d9c8b7a-6f5e-4d3c-8b2a-19f8e7d6c5b4"
CLIENT_ID = "b7e2d4a1-5c3f-4e8b-a9d0-1f2e3c4b5a69"
CLIENT_SECRET = "fake-idp-client-secret"  # noqa: S105 - a test value
# With v2 access tokens, `aud` is the client id of the app registration that exposes the API.
API_AUDIENCE = "e4f5a6b7-c8d9-4e0f-a1b2-c3d4e5f6a7b8"
REDIRECT_URI = "http://testserver/accounts/callback/"


@pytest.fixture(scope="session")
def fake_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIdentityProvider]:
    idp = FakeIdentityProvider(
        tenant_id=TENANT_ID,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris={REDIRECT_URI},
        folder=tmp_path_factory.mktemp("fake-idp"),
    ).start()
    yield idp
    idp.stop()


@pytest.fixture
def idp(fake_idp: FakeIdentityProvider, settings) -> Iterator[FakeIdentityProvider]:  # type: ignore[no-untyped-def]
    """The portal configured for the fake provider, which starts each test afresh."""
    fake_idp.reset()
    settings.ENTRA_TENANT_ID = TENANT_ID
    settings.ENTRA_CLIENT_ID = CLIENT_ID
    settings.ENTRA_CLIENT_SECRET = CLIENT_SECRET
    settings.ENTRA_AUTHORITY = fake_idp.authority
    settings.ENTRA_REDIRECT_URI = REDIRECT_URI
    settings.ENTRA_API_AUDIENCE = API_AUDIENCE
    settings.ENTRA_CA_BUNDLE = str(fake_idp.ca_path)
    settings.ENTRA_POST_LOGOUT_REDIRECT_URI = ""
    entra.clear_caches()
    yield fake_idp
    entra.clear_caches()


@dataclass
class SignIn:
    """Plays the browser: the portal through Django's test client, the provider over HTTPS."""

    client: Client
    idp: FakeIdentityProvider

    def begin(self, next_url: str = "") -> str:
        """Start at the portal; return the provider's authorize URL it redirects to."""
        query = {"sso": "1", **({"next": next_url} if next_url else {})}
        response = self.client.get("/accounts/login/", query)
        assert response.status_code == 302, response.content
        return response["Location"]

    def authorize(self, authorize_url: str) -> tuple[str, dict[str, str]]:
        """Visit the provider's authorize URL; return the callback path and its query."""
        browser = requests.Session()
        browser.trust_env = False
        browser.verify = str(self.idp.ca_path)
        response = browser.get(authorize_url, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        callback = urlsplit(response.headers["Location"])
        return callback.path, {k: v[0] for k, v in parse_qs(callback.query).items()}

    def callback(self, path: str, query: dict[str, str]):  # type: ignore[no-untyped-def]
        return self.client.get(path, query)

    def run(self, next_url: str = ""):  # type: ignore[no-untyped-def]
        """A whole sign-in; returns the portal's response to the callback."""
        return self.callback(*self.authorize(self.begin(next_url)))


@pytest.fixture
def sign_in(client: Client, idp: FakeIdentityProvider) -> SignIn:
    return SignIn(client=client, idp=idp)
