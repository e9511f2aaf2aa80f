"""The server-rendered pages: home, sign-in, error pages, and the rules every page keeps."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client

from synergy_portal.demo_users import DEMO_USERS
from synergy_portal.entra import SSO_NOT_CONFIGURED
from synergy_portal.models import User
from synergy_portal.services import demo_users_ensure
from synergy_portal.views.accounts import DEV_LOGIN_UNKNOWN_USER
from tests.journeys.factories import JourneyFactory
from tests.opportunities.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    demo_users_ensure()
    return User.objects.get(username="staff")


@pytest.fixture
def dev_login_on(settings) -> None:
    settings.SYNERGY_DEV_LOGIN = True


def _attribute(body: str, name: str) -> str:
    match = re.search(rf"""\s{name}='([^']*)'""", body) or re.search(
        rf'''\s{name}="([^"]*)"''', body
    )
    assert match, f"no {name} attribute"
    return html.unescape(match.group(1))


def test_home_signed_out_explains_the_portal_and_offers_sign_in(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Make the technology fit the job" in body
    assert "Continuous Improvement (CI) team" in body
    assert "2-Speed" in body
    assert 'href="/accounts/login/"' in body
    assert "Sign out" not in body


def test_home_signed_in_shows_the_figures_and_recent_opportunities(
    client: Client, staff: User
) -> None:
    journey = JourneyFactory(name="Custody intake")
    mine = OpportunityFactory(
        submitter=staff, title="Custody booking needs three logins", journey=journey
    )
    OpportunityFactory(title="Duty rota not visible on phones")
    client.force_login(staff)

    response = client.get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Welcome, Sam" in body
    assert "Signed in as <strong>Sam Staff</strong>" in body
    assert response.context["summary"]["open"] == 2
    assert response.context["summary"]["mine"] == 1
    assert '<span class="app-stat__value">2</span>' in body
    assert mine.reference in body
    assert "Custody booking needs three logins" in body
    assert "Custody intake" in body
    assert "Duty rota not visible on phones" in body
    assert "app-status--submitted" in body
    assert 'aria-current="page"' in body


def test_home_counts_what_each_reader_may_see_and_follow_changes(
    client: Client, staff: User, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    from opportunities.models import Status
    from synergy_portal.models import Role
    from tests.synergy_portal.factories import UserFactory

    OpportunityFactory(status=Status.TRIAGE)
    OpportunityFactory(status=Status.TRIAGE, is_restricted=True)  # someone else's, sensitive
    OpportunityFactory(status=Status.DELIVERED, delivery_note="Logins merged")
    OpportunityFactory(status=Status.SUBMITTED, submitter=staff, is_restricted=True)
    OpportunityFactory(status=Status.DRAFT, submitter=staff, submitted_at=None)
    client.force_login(staff)
    summary = client.get("/").context["summary"]
    # Their own sensitive one counts for them; another's does not; drafts are not open.
    assert (summary["open"], summary["delivered"], summary["mine"]) == (2, 1, 2)
    ci = UserFactory(roles={Role.CI_TEAM})
    client.force_login(ci)
    summary = client.get("/").context["summary"]
    assert (summary["open"], summary["delivered"], summary["mine"]) == (3, 1, 0)
    # The force-wide counts are cached until an opportunity changes, then read afresh.
    with django_assert_max_num_queries(8):
        client.get("/")
    OpportunityFactory(status=Status.BACKLOG)
    assert client.get("/").context["summary"]["open"] == 4


def test_signed_in_pages_post_sign_out_with_csrf_and_send_the_token_to_htmx(
    client: Client, staff: User
) -> None:
    client.force_login(staff)

    body = client.get("/").content.decode()

    assert re.search(r'<form method="post" action="/accounts/logout/"', body)
    assert 'name="csrfmiddlewaretoken"' in body
    headers = json.loads(_attribute(body, "hx-headers"))
    assert set(headers) == {"X-CSRFToken"}
    assert headers["X-CSRFToken"]
    htmx_config = re.search(r"""<meta name="htmx-config" content='([^']*)'>""", body)
    assert htmx_config
    assert json.loads(html.unescape(htmx_config.group(1))) == {
        "includeIndicatorStyles": False,
        "allowEval": False,
        "allowScriptTags": False,
        "historyCacheSize": 0,
        "selfRequestsOnly": True,
    }


def test_login_page_lists_the_five_demo_users(client: Client, dev_login_on: None) -> None:
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('name="username" type="radio"') == 5
    for demo in DEMO_USERS:
        assert f'value="{demo.username}"' in body
        assert f"{demo.display_name} ({demo.role.label})" in body
        assert html.escape(demo.description) in body
    assert 'action="/accounts/dev-login/"' in body
    assert "Sign in as demo user" in body
    assert "There is a problem" not in body


def test_login_page_without_dev_login_offers_no_demo_users(client: Client, settings) -> None:
    settings.SYNERGY_DEV_LOGIN = False
    settings.ENTRA_CLIENT_ID = ""

    body = client.get("/accounts/login/").content.decode()

    assert 'name="username"' not in body
    assert "Single sign-on with your force Microsoft account is not configured" in body


def test_login_page_offers_single_sign_on_when_entra_is_configured(
    client: Client, settings
) -> None:
    settings.ENTRA_TENANT_ID = "tenant"
    settings.ENTRA_CLIENT_ID = "client-id"
    settings.ENTRA_CLIENT_SECRET = "secret"
    settings.ENTRA_AUTHORITY = "https://login.microsoftonline.com/tenant"

    body = client.get("/accounts/login/?next=/").content.decode()

    assert "Sign in with your force Microsoft account" in body
    assert 'href="/accounts/login/?sso=1&amp;next=/"' in body
    assert "is not configured on this server" not in body


def test_single_sign_on_refusal_is_summarised_without_blaming_the_demo_user_field(
    client: Client, settings, dev_login_on: None
) -> None:
    settings.ENTRA_CLIENT_ID = ""

    response = client.get("/accounts/login/?sso=1")

    assert response.status_code == 400
    body = response.content.decode()
    assert "<title>Error: Sign in" in body
    assert f'<a href="#sso">{SSO_NOT_CONFIGURED}</a>' in body
    assert 'id="sso"' in body
    assert "username-error" not in body


def test_dev_login_with_an_unknown_username_is_refused_with_the_error(
    client: Client, staff: User, dev_login_on: None
) -> None:
    response = client.post("/accounts/dev-login/", {"username": "nobody", "next": "/"})

    assert response.status_code == 400
    body = response.content.decode()
    assert "<title>Error: Sign in" in body
    assert "There is a problem" in body
    assert f'<a href="#username">{DEV_LOGIN_UNKNOWN_USER}</a>' in body
    assert 'aria-describedby="username-error"' in body
    assert 'id="username-error"' in body
    assert "_auth_user_id" not in client.session


def test_dev_login_signs_in_the_demo_user(client: Client, staff: User, dev_login_on: None) -> None:
    response = client.post("/accounts/dev-login/", {"username": "staff", "next": "/"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_unknown_address_renders_the_portal_404_page(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    body = response.content.decode()
    assert "<title>Page not found – Synergy Portal</title>" in body
    assert 'class="app-header"' in body
    assert 'href="#main-content"' in body


def test_500_page_needs_nothing_but_the_request(rf, django_assert_num_queries) -> None:
    request = rf.get("/")
    request.user = AnonymousUser()

    with django_assert_num_queries(0):
        body = render_to_string("errors/500.html", {}, request=request)

    assert "Sorry, there is a problem with the service" in body
    assert "Sign out" not in body


def test_403_page_renders_in_the_portal_design(rf) -> None:
    request = rf.get("/")
    request.user = AnonymousUser()

    body = render_to_string("errors/403.html", {}, request=request)

    assert "You cannot see this page" in body
    assert 'class="app-header"' in body
    assert 'href="/accounts/login/"' in body


def test_content_security_policy_forbids_inline_code(client: Client) -> None:
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/no-such-page/"])
def test_pages_carry_no_inline_script_or_style(
    client: Client, staff: User, dev_login_on: None, path: str
) -> None:
    for signed_in in (False, True):
        if signed_in:
            client.force_login(staff)
        body = client.get(path).content.decode()
        assert '<html lang="en-GB"' in body
        for tag in re.findall(r"<script\b[^>]*>", body):
            assert " src=" in tag, f"inline script on {path}: {tag}"
        assert "<style" not in body, f"<style> block on {path}"
        assert not re.search(r"\sstyle=", body), f"style attribute on {path}"
        assert not re.search(r"\son[a-z]+=", body), f"inline event handler on {path}"
