"""Entra ID access tokens for the API (synergy_portal.api_auth), verified against the fake
provider's published keys."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from rest_framework.authtoken.models import Token

from synergy_portal import api_auth
from synergy_portal.models import Role, User
from synergy_portal.permissions import roles_of
from tests.fake_idp import Signer
from tests.security.conftest import API_AUDIENCE, CLIENT_ID, OTHER_TENANT_ID, TENANT_ID
from tests.synergy_portal.factories import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
APP_OID = "5b0e4a7e-0000-4000-8000-0000000000dd"


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_machine_identity_with_a_valid_token_is_signed_in_with_its_roles(client, idp) -> None:  # type: ignore[no-untyped-def]
    response = client.get(ME, **_bearer(idp.access_token(audience=API_AUDIENCE)))

    assert response.status_code == 200
    assert response.json() == {"username": f"entra:{APP_OID}", "roles": ["ddi_service"]}
    machine = User.objects.get(tid=TENANT_ID, oid=APP_OID)
    assert roles_of(machine) == {Role.DDI_SERVICE}
    assert not machine.has_usable_password()


def test_person_calling_through_a_client_app_gets_their_roles(client, idp) -> None:  # type: ignore[no-untyped-def]
    token = idp.access_token(
        audience=API_AUDIENCE,
        oid="9f1c2a52-0000-4000-8000-000000000001",
        name="Priya Constable",
        scp="access_as_user",
        roles=["Synergy.Manager"],
        idtyp="user",
    )

    response = client.get(ME, **_bearer(token))

    assert response.status_code == 200
    assert response.json()["roles"] == ["manager", "staff"]


def test_roles_follow_the_token_on_every_call(client, idp) -> None:  # type: ignore[no-untyped-def]
    client.get(
        ME,
        **_bearer(
            idp.access_token(audience=API_AUDIENCE, roles=["Synergy.DDI", "Synergy.Manager"])
        ),
    )

    response = client.get(ME, **_bearer(idp.access_token(audience=API_AUDIENCE)))

    assert response.json()["roles"] == ["ddi_service"]
    assert roles_of(User.objects.get(oid=APP_OID)) == {Role.DDI_SERVICE}


def _now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    ("token_kwargs", "detail"),
    [
        pytest.param(
            {"exp": _now() - 600, "iat": _now() - 4200, "nbf": _now() - 4200},
            api_auth.TOKEN_EXPIRED,
            id="expired",
        ),
        pytest.param(
            {"audience": "api://someone-else"}, api_auth.TOKEN_INVALID, id="wrong-audience"
        ),
        pytest.param({"audience": CLIENT_ID}, api_auth.TOKEN_INVALID, id="token-for-the-web-app"),
        pytest.param(
            {"iss": "https://sts.windows.net/" + TENANT_ID + "/"},
            api_auth.TOKEN_INVALID,
            id="wrong-issuer",
        ),
        pytest.param({"tid": OTHER_TENANT_ID}, api_auth.TOKEN_INVALID, id="wrong-tenant"),
        pytest.param({"nbf": _now() + 3600}, api_auth.TOKEN_INVALID, id="not-yet-valid"),
        pytest.param({"remove": ("azp",)}, api_auth.TOKEN_INVALID, id="id-token-shaped"),
        pytest.param({"remove": ("oid",)}, api_auth.TOKEN_INVALID, id="no-oid"),
    ],
)
def test_invalid_tokens_are_refused_with_401_json(
    client, idp, token_kwargs: dict, detail: str
) -> None:  # type: ignore[no-untyped-def]
    kwargs = {"audience": API_AUDIENCE, **token_kwargs}

    response = client.get(ME, **_bearer(idp.access_token(**kwargs)))

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail}
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not User.objects.filter(oid=APP_OID).exists()


def test_token_with_a_bad_signature_is_refused(client, idp) -> None:  # type: ignore[no-untyped-def]
    forged = idp.access_token(audience=API_AUDIENCE, signer=Signer.generate(kid=idp.signer.kid))

    response = client.get(ME, **_bearer(forged))

    assert response.status_code == 401
    assert response.json() == {"detail": api_auth.TOKEN_INVALID}


def test_token_from_an_unknown_key_is_refused(client, idp) -> None:  # type: ignore[no-untyped-def]
    forged = idp.access_token(audience=API_AUDIENCE, signer=Signer.generate(kid="attacker"))

    response = client.get(ME, **_bearer(forged))

    assert response.status_code == 401


def test_token_altered_after_signing_is_refused(client, idp) -> None:  # type: ignore[no-untyped-def]
    header, payload, signature = idp.access_token(audience=API_AUDIENCE).split(".")
    claims = jwt.decode(
        idp.access_token(audience=API_AUDIENCE, roles=["Synergy.Admin"]),
        options={"verify_signature": False},
    )
    altered_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = client.get(ME, **_bearer(f"{header}.{altered_payload}.{signature}"))

    assert response.status_code == 401


@pytest.mark.parametrize("algorithm", ["HS256", "none"])
def test_tokens_not_signed_with_rs256_are_refused(client, idp, algorithm: str) -> None:  # type: ignore[no-untyped-def]
    claims = jwt.decode(
        idp.access_token(audience=API_AUDIENCE), options={"verify_signature": False}
    )
    key = "a-guessable-shared-secret-of-decent-length" if algorithm == "HS256" else None
    token = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": idp.signer.kid})

    response = client.get(ME, **_bearer(token))

    assert response.status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer not-a-jwt"])
def test_malformed_bearer_headers_are_refused(client, idp, header: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(ME, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert "detail" in response.json()


def test_no_credentials_is_401(client, idp) -> None:  # type: ignore[no-untyped-def]
    response = client.get(ME)

    assert response.status_code == 401
    assert response.json()["detail"]


def test_app_without_a_portal_role_is_refused(client, idp) -> None:  # type: ignore[no-untyped-def]
    response = client.get(ME, **_bearer(idp.access_token(audience=API_AUDIENCE, roles=[])))

    assert response.status_code == 403
    assert response.json() == {"detail": api_auth.APP_WITHOUT_ROLE}
    assert not User.objects.filter(oid=APP_OID).exists()


def test_bearer_tokens_refused_when_no_api_audience_is_configured(client, idp, settings) -> None:  # type: ignore[no-untyped-def]
    token = idp.access_token(audience=API_AUDIENCE)
    settings.ENTRA_API_AUDIENCE = ""

    response = client.get(ME, **_bearer(token))

    assert response.status_code == 401
    assert response.json() == {"detail": api_auth.BEARER_NOT_ACCEPTED}


@pytest.mark.urls("tests.security.urls")
def test_role_restricted_api_admits_the_role(client, idp) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/test-only/extracts/", **_bearer(idp.access_token(audience=API_AUDIENCE))
    )

    assert response.status_code == 200


@pytest.mark.urls("tests.security.urls")
def test_role_restricted_api_refuses_a_token_without_the_role(client, idp) -> None:  # type: ignore[no-untyped-def]
    token = idp.access_token(audience=API_AUDIENCE, roles=["Synergy.Manager"])

    response = client.get("/test-only/extracts/", **_bearer(token))

    assert response.status_code == 403
    assert response.json() == {"detail": api_auth.ROLE_MISSING}


def test_session_sign_in_works_for_the_api_too(client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(UserFactory(username="casey", roles={Role.CI_TEAM}))

    response = client.get(ME)

    assert response.json() == {"username": "casey", "roles": ["ci_team", "staff"]}


def test_drf_token_works_while_debug_is_on(client) -> None:  # type: ignore[no-untyped-def]
    token = Token.objects.create(user=UserFactory(username="local-dev"))

    response = client.get(ME, HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert response.json()["username"] == "local-dev"


def test_drf_tokens_are_not_accepted_with_debug_off() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SYNERGY_DEV_LOGIN"}}
    env.update(
        DJANGO_SETTINGS_MODULE="synergy_portal.settings",
        SECRET_KEY="s" * 60,
        ALLOWED_HOSTS="synergy.police.example",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES'])",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "EntraBearerAuthentication" in result.stdout
    assert "TokenAuthentication" not in result.stdout
