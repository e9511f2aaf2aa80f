"""Entra ID browser sign-in, end to end through msal against the fake identity provider."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.utils.html import escape

from journeys.models import Department
from synergy_portal import entra
from synergy_portal.models import Role, User
from synergy_portal.permissions import roles_of
from tests.fake_idp import REMOVE, Signer
from tests.journeys.factories import DepartmentFactory, RoleFactory
from tests.security.conftest import OTHER_TENANT_ID, TENANT_ID, SignIn
from tests.synergy_portal.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    # The portal asks for the query response on purpose (see synergy_portal/entra.py).
    pytest.mark.filterwarnings("ignore:response_mode='form_post' is recommended:UserWarning"),
]

OID = "9f1c2a52-0000-4000-8000-000000000001"


def _signed_in_user(client) -> User | None:  # type: ignore[no-untyped-def]
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id) if user_id else None


def _roles(user: User) -> set[Role]:
    return set(roles_of(User.objects.get(pk=user.pk)))


# --- the flow itself ----------------------------------------------------------------------------


def test_login_page_still_renders_without_starting_a_sign_in(client, idp) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response.context["entra_configured"] is True
    assert entra.FLOWS_SESSION_KEY not in client.session


def test_sign_in_uses_the_auth_code_flow_with_pkce_and_a_query_response(sign_in: SignIn) -> None:
    query = parse_qs(urlsplit(sign_in.begin()).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert query["response_mode"] == ["query"]
    assert "openid" in query["scope"][0].split()
    assert "offline_access" not in query["scope"][0].split()


def test_first_sign_in_creates_the_user_keyed_by_tenant_and_object_id(
    sign_in: SignIn, client
) -> None:  # type: ignore[no-untyped-def]
    response = sign_in.run()

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = User.objects.get(tid=TENANT_ID, oid=OID)
    assert user.username == f"entra:{OID}"
    assert user.display_name == "Priya Constable"
    assert user.email == "priya.constable@force.police.example"
    assert not user.has_usable_password()
    assert _signed_in_user(client) == user


def test_sign_in_returns_to_the_page_asked_for(sign_in: SignIn) -> None:
    response = sign_in.run(next_url="/opportunities/?mine=1")
    assert response["Location"] == "/opportunities/?mine=1"


def test_sign_in_ignores_a_next_address_on_another_site(sign_in: SignIn) -> None:
    response = sign_in.run(next_url="https://evil.example/phish")
    assert response["Location"] == "/"


def test_later_sign_ins_find_the_person_by_object_id_not_email(sign_in: SignIn, idp) -> None:  # type: ignore[no-untyped-def]
    sign_in.run()
    first = User.objects.get(oid=OID)
    idp.user.update(name="Priya Sergeant", preferred_username="p.sergeant@force.police.example")

    sign_in.run()

    assert User.objects.filter(tid=TENANT_ID).count() == 1
    again = User.objects.get(pk=first.pk)
    assert again.display_name == "Priya Sergeant"
    assert again.email == "p.sergeant@force.police.example"


def test_a_local_account_with_the_same_email_is_never_taken_over(sign_in: SignIn) -> None:
    local = UserFactory(
        username="priya", email="priya.constable@force.police.example", tid="", oid=""
    )

    sign_in.run()

    signed_in = User.objects.get(oid=OID)
    assert signed_in.pk != local.pk


def test_session_key_changes_at_sign_in(sign_in: SignIn, client) -> None:  # type: ignore[no-untyped-def]
    path, query = sign_in.authorize(sign_in.begin())
    before = client.session.session_key
    assert before

    sign_in.callback(path, query)

    assert client.session.session_key != before
    assert client.session[entra.AUTH_METHOD_SESSION_KEY] == entra.AUTH_METHOD_ENTRA
    assert entra.FLOWS_SESSION_KEY not in client.session


def test_two_tabs_may_sign_in_at_once(sign_in: SignIn, client) -> None:  # type: ignore[no-untyped-def]
    first_tab = sign_in.authorize(sign_in.begin())
    second_tab = sign_in.authorize(sign_in.begin())

    assert sign_in.callback(*first_tab).status_code == 302
    assert _signed_in_user(client) is not None
    assert second_tab[1]["state"] != first_tab[1]["state"]


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app_role", "role"),
    [
        ("Synergy.CITeam", Role.CI_TEAM),
        ("Synergy.JourneyOwner", Role.JOURNEY_OWNER),
        ("Synergy.Manager", Role.MANAGER),
        ("Synergy.Admin", Role.ADMIN),
        ("Synergy.DDI", Role.DDI_SERVICE),
    ],
)
def test_app_roles_map_to_role_groups(sign_in: SignIn, idp, app_role: str, role: Role) -> None:  # type: ignore[no-untyped-def]
    idp.user["roles"] = [app_role]

    sign_in.run()

    user = User.objects.get(oid=OID)
    assert set(user.groups.values_list("name", flat=True)) == {role.value}
    assert role in _roles(user)


def test_admin_app_role_opens_the_admin_site(sign_in: SignIn, idp, client) -> None:  # type: ignore[no-untyped-def]
    idp.user["roles"] = ["Synergy.Admin"]

    sign_in.run()

    user = User.objects.get(oid=OID)
    assert user.is_staff and user.is_superuser
    assert client.get("/admin/").status_code == 200


def test_role_removed_in_entra_is_removed_at_next_sign_in(sign_in: SignIn, idp) -> None:  # type: ignore[no-untyped-def]
    idp.user["roles"] = ["Synergy.CITeam", "Synergy.Admin"]
    sign_in.run()
    user = User.objects.get(oid=OID)
    assert _roles(user) == {Role.CI_TEAM, Role.ADMIN, Role.STAFF}

    idp.user["roles"] = ["Synergy.CITeam"]
    sign_in.run()

    user.refresh_from_db()
    assert _roles(user) == {Role.CI_TEAM, Role.STAFF}
    assert not user.is_staff and not user.is_superuser


def test_no_app_roles_means_staff_only(sign_in: SignIn, idp) -> None:  # type: ignore[no-untyped-def]
    idp.user["roles"] = ["Synergy.Manager"]
    sign_in.run()

    idp.user["roles"] = []
    sign_in.run()

    user = User.objects.get(oid=OID)
    assert not user.groups.exists()
    assert _roles(user) == {Role.STAFF}


def test_unknown_app_roles_are_ignored(sign_in: SignIn, idp) -> None:  # type: ignore[no-untyped-def]
    idp.user["roles"] = ["Synergy.Superhero", "Directory.ReadWrite.All"]

    sign_in.run()

    assert _roles(User.objects.get(oid=OID)) == {Role.STAFF}


def test_department_and_job_title_claims_match_reference_data_by_name(sign_in: SignIn, idp) -> None:  # type: ignore[no-untyped-def]
    department = DepartmentFactory(name="Response Policing")
    job_role = RoleFactory(name="Police Constable", department=department)
    RoleFactory(name="Police Constable")  # the same title elsewhere must not confuse it
    idp.user.update(department="response policing", jobTitle="Police Constable")

    sign_in.run()

    user = User.objects.get(oid=OID)
    assert user.department == department
    assert user.job_role == job_role


def test_unknown_department_claim_is_ignored(sign_in: SignIn, idp) -> None:  # type: ignore[no-untyped-def]
    idp.user.update(department="Ministry of Silly Walks")

    sign_in.run()

    assert User.objects.get(oid=OID).department is None
    assert not Department.objects.filter(name="Ministry of Silly Walks").exists()


# --- refusals ---------------------------------------------------------------------------------


def _assert_refused(response, client, *, status: int, message: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert escape(message) in response.content.decode()
    assert _signed_in_user(client) is None
    assert not User.objects.filter(oid=OID).exists()


@pytest.mark.parametrize(
    ("tamper", "reason", "message"),
    [
        pytest.param(
            {"tid": OTHER_TENANT_ID}, "tenant", entra.SIGN_IN_WRONG_TENANT, id="wrong-tenant"
        ),
        pytest.param(
            {"aud": "another-app"}, "audience", entra.SIGN_IN_NOT_VERIFIED, id="wrong-aud"
        ),
        pytest.param(
            {"iss": "https://login.example/other/v2.0"},
            "issuer",
            entra.SIGN_IN_NOT_VERIFIED,
            id="wrong-issuer",
        ),
        pytest.param(
            {"exp": int(time.time()) - 600, "iat": int(time.time()) - 4200},
            "expired",
            entra.SIGN_IN_NOT_VERIFIED,
            id="expired",
        ),
        pytest.param(
            {"nbf": int(time.time()) + 3600}, "not_yet_valid", entra.SIGN_IN_NOT_VERIFIED, id="nbf"
        ),
        pytest.param({"oid": REMOVE}, "missing_claim", entra.SIGN_IN_NOT_VERIFIED, id="no-oid"),
        pytest.param({"tid": REMOVE}, "missing_claim", entra.SIGN_IN_NOT_VERIFIED, id="no-tid"),
    ],
)
def test_id_token_problems_are_refused(  # type: ignore[no-untyped-def]
    sign_in: SignIn, idp, client, caplog, tamper: dict, reason: str, message: str
) -> None:
    idp.id_token_overrides = tamper
    caplog.set_level(logging.INFO, logger="synergy.security")

    response = sign_in.run()

    _assert_refused(response, client, status=403, message=message)
    events = [r for r in caplog.records if r.name == "synergy.security"]
    assert [(e.fields["outcome"], e.fields["reason"]) for e in events] == [("refused", reason)]


def test_tampered_nonce_is_refused(sign_in: SignIn, idp, client) -> None:  # type: ignore[no-untyped-def]
    idp.id_token_overrides = {"nonce": "0" * 64}

    response = sign_in.run()

    _assert_refused(response, client, status=403, message=entra.SIGN_IN_NOT_VERIFIED)


def test_our_own_nonce_check_refuses_a_token_for_another_sign_in(idp) -> None:  # type: ignore[no-untyped-def]
    """msal checks the nonce too; the portal does not rely on it."""
    from tests.fake_idp import IssuedCode

    issued = IssuedCode(idp.client_id, "x", "x", nonce="nonce-of-another-sign-in", scope="openid")
    token = idp.signer.sign(idp.id_token_claims(issued))

    with pytest.raises(entra.TokenInvalid) as refused:
        entra.verify_id_token(
            token, expected_nonce="nonce-of-this-one", config=entra.entra_config()
        )
    assert refused.value.reason == "nonce"


def test_id_token_signed_by_another_key_is_refused(sign_in: SignIn, idp, client) -> None:  # type: ignore[no-untyped-def]
    idp.id_token_signer = Signer.generate(kid=idp.signer.kid)  # same key id, wrong key

    response = sign_in.run()

    _assert_refused(response, client, status=403, message=entra.SIGN_IN_NOT_VERIFIED)


def test_id_token_signed_by_an_unknown_key_id_is_refused(sign_in: SignIn, idp, client) -> None:  # type: ignore[no-untyped-def]
    idp.id_token_signer = Signer.generate(kid="attacker-key")

    response = sign_in.run()

    _assert_refused(response, client, status=403, message=entra.SIGN_IN_NOT_VERIFIED)


def test_tampered_state_is_refused(sign_in: SignIn, client) -> None:  # type: ignore[no-untyped-def]
    path, query = sign_in.authorize(sign_in.begin())
    query["state"] = query["state"][:-2] + "xx"

    response = sign_in.callback(path, query)

    _assert_refused(response, client, status=400, message=entra.SIGN_IN_EXPIRED)


def test_replayed_callback_is_refused(sign_in: SignIn, client) -> None:  # type: ignore[no-untyped-def]
    path, query = sign_in.authorize(sign_in.begin())
    assert sign_in.callback(path, query).status_code == 302
    client.post("/accounts/logout/")

    response = sign_in.callback(path, query)

    assert response.status_code == 400
    assert escape(entra.SIGN_IN_EXPIRED) in response.content.decode()
    assert _signed_in_user(client) is None


def test_callback_replayed_in_another_browser_is_refused(sign_in: SignIn, idp) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    path, query = sign_in.authorize(sign_in.begin())
    attacker = Client()

    response = attacker.get(path, query)

    assert response.status_code == 400
    assert _signed_in_user(attacker) is None
    assert not User.objects.filter(oid=OID).exists()


def test_callback_without_a_pending_sign_in_is_refused(client, idp) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/accounts/callback/", {"code": "made-up", "state": "made-up"})

    _assert_refused(response, client, status=400, message=entra.SIGN_IN_EXPIRED)


def test_stale_pending_sign_in_is_refused(sign_in: SignIn, client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path, query = sign_in.authorize(sign_in.begin())
    monkeypatch.setattr(entra, "PENDING_SIGN_IN_SECONDS", 0)

    response = sign_in.callback(path, query)

    _assert_refused(response, client, status=400, message=entra.SIGN_IN_EXPIRED)


def test_sign_in_cancelled_at_microsoft_is_refused(sign_in: SignIn, idp, client, caplog) -> None:  # type: ignore[no-untyped-def]
    idp.authorize_error = "access_denied"
    caplog.set_level(logging.INFO, logger="synergy.security")

    response = sign_in.run()

    _assert_refused(response, client, status=403, message=entra.SIGN_IN_CANCELLED)
    [event] = [r for r in caplog.records if r.name == "synergy.security"]
    assert event.fields["reason"] == "idp_error:access_denied"


def test_error_text_from_the_url_is_not_logged(sign_in: SignIn, client, caplog) -> None:  # type: ignore[no-untyped-def]
    path, query = sign_in.authorize(sign_in.begin())
    caplog.set_level(logging.INFO, logger="synergy.security")

    response = sign_in.callback(path, {"state": query["state"], "error": "<script>\nforged"})

    assert response.status_code == 403
    [event] = [r for r in caplog.records if r.name == "synergy.security"]
    assert event.fields["reason"] == "idp_error:unrecognised"


def test_wrong_client_secret_is_refused(sign_in: SignIn, settings, client) -> None:  # type: ignore[no-untyped-def]
    settings.ENTRA_CLIENT_SECRET = "not-the-secret"

    response = sign_in.run()

    _assert_refused(response, client, status=403, message=entra.SIGN_IN_NOT_VERIFIED)


def test_disabled_account_is_refused(sign_in: SignIn, client) -> None:  # type: ignore[no-untyped-def]
    UserFactory(tid=TENANT_ID, oid=OID, username=f"entra:{OID}", is_active=False)

    response = sign_in.run()

    assert response.status_code == 403
    assert escape(entra.SIGN_IN_ACCOUNT_DISABLED) in response.content.decode()
    assert _signed_in_user(client) is None


def test_unreachable_identity_provider_is_a_clear_503(client, idp, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ENTRA_AUTHORITY = f"https://127.0.0.1:1/{TENANT_ID}"

    response = client.get("/accounts/login/", {"sso": "1"})

    assert response.status_code == 503
    assert escape(entra.IDP_UNAVAILABLE) in response.content.decode()


def test_sso_start_when_not_configured_is_refused(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ENTRA_CLIENT_ID = ""

    response = client.get("/accounts/login/", {"sso": "1"})

    assert response.status_code == 400
    assert escape(entra.SSO_NOT_CONFIGURED) in response.content.decode()


# --- the security log ----------------------------------------------------------------------


def test_sign_in_is_logged_as_a_security_event_without_tokens(sign_in: SignIn, idp, caplog) -> None:  # type: ignore[no-untyped-def]
    from synergy_portal.security_log import JsonFormatter

    caplog.set_level(logging.INFO, logger="synergy.security")

    sign_in.run()

    records = [r for r in caplog.records if r.name == "synergy.security"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["event"] == "sign_in"
    assert line["outcome"] == "ok"
    assert line["user_key"] == f"{TENANT_ID}/{OID}"
    assert line["time"].endswith("+00:00")
    assert "eyJ" not in json.dumps(line)  # no JWT anywhere


# --- signing out ------------------------------------------------------------------------------


def test_sign_out_after_entra_sign_in_ends_the_entra_session_too(
    sign_in: SignIn, idp, client
) -> None:  # type: ignore[no-untyped-def]
    sign_in.run()

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == idp.end_session_endpoint
    assert parse_qs(target.query)["post_logout_redirect_uri"] == ["http://testserver/"]
    assert _signed_in_user(client) is None


def test_sign_out_of_a_demo_user_goes_home(client, idp) -> None:  # type: ignore[no-untyped-def]
    from synergy_portal.services import demo_users_ensure

    demo_users_ensure()
    client.post("/accounts/dev-login/", {"username": "staff"})

    response = client.post("/accounts/logout/")

    assert response["Location"] == "/"
    assert _signed_in_user(client) is None


def test_sign_out_when_sso_is_no_longer_configured_goes_home(
    sign_in: SignIn, client, settings
) -> None:  # type: ignore[no-untyped-def]
    sign_in.run()
    settings.ENTRA_CLIENT_ID = ""

    response = client.post("/accounts/logout/")

    assert response["Location"] == "/"
    assert _signed_in_user(client) is None


def test_sign_out_needs_a_post(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/accounts/logout/").status_code == 405
