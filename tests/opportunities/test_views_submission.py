"""The submission form: every answer kept, every bad input refused with a clear message."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from opportunities.forms import (
    MSG_JOURNEY_UNKNOWN,
    MSG_PROBLEM_REQUIRED,
    MSG_STEP_UNKNOWN,
    MSG_TITLE_REQUIRED,
    MSG_TITLE_TOO_LONG,
    form_key_make,
)
from opportunities.models import Attachment, Opportunity, Status, Support
from opportunities.services.submission import MSG_STEP_JOURNEY
from opportunities.views.submission import MSG_SUPPORTED_INSTEAD, PENDING_SESSION_KEY
from tests.opportunities.conftest import HTMX, first_step
from tests.opportunities.factories import DraftFactory, OpportunityFactory
from tests.opportunities.test_services_attachments import png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimit", "media")]

NEW = "/opportunities/new/"


def answers(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Custody booking asks for the same details three times",
        "problem": "Every detained person is typed into three systems.",
        "better": "Type it once.",
        "journey": "",
        "step": "",
        "people": "25",
        "frequency": "5",
        "minutes": "15",
        "department": "",
        "classification": "official",
        "show_name": "yes",
        "action": "submit",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def form_key(client: Client) -> str:
    body = client.get(NEW).content.decode()
    return html.unescape(re.search(r'name="form_key" value="([^"]+)"', body).group(1))


def error_summary(body: str) -> list[str]:
    summary = re.search(r'<ul class="govuk-list govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert summary, "no error summary"
    return [html.unescape(m) for m in re.findall(r'<a href="#[^"]+">(.*?)</a>', summary.group(1))]


def test_signed_out_people_are_sent_to_sign_in_and_back(client: Client) -> None:
    response = client.get(NEW)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/opportunities/new/"


def test_the_form_has_every_question(client_for, staff, journey, dna_themes) -> None:
    response = client_for(staff).get(NEW)

    assert response.status_code == 200
    body = response.content.decode()
    for text in [
        "Short title",
        "What gets in your way?",
        "What would be better?",
        "Which user journey?",
        "Which step of the journey?",
        "Which applications are involved?",
        "How many people does it affect?",
        "How often does it happen to each of them?",
        "Roughly how much time does it cost each time?",
        "Which department are you in?",
        "Which Synergy DNA themes does it touch?",
        "Data First",
        "Screenshots or documents",
        "Security classification",
        "OFFICIAL-SENSITIVE",
        "Can other staff see that you raised it?",
        "Do not include personal details",
    ]:
        assert text in body, text
    assert 'hx-trigger="input changed delay:2s, change delay:2s"' in body
    assert '<optgroup label="Custody intake">' in body  # steps work without JavaScript
    assert "style=" not in body and "<script>" not in body and " onclick" not in body


def test_a_complete_form_submits_and_confirms(client_for, staff, journey) -> None:
    client = client_for(staff)
    step = first_step(journey)

    response = client.post(
        NEW, answers(form_key=form_key(client), journey=journey.pk, step=step.pk)
    )

    opp = Opportunity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/opportunities/{opp.reference}/submitted/"
    assert opp.status == Status.SUBMITTED
    assert (
        opp.people_affected,
        float(opp.frequency_per_week),
        float(opp.minutes_per_occurrence),
    ) == (25, 5.0, 15.0)
    assert opp.step == step

    page = client.get(response["Location"])
    body = page.content.decode()
    assert opp.reference in body
    assert "What happens next" in body
    assert "first response by" in body


def test_missing_answers_show_the_error_summary_and_keep_everything(client_for, staff) -> None:
    client = client_for(staff)

    response = client.post(
        NEW,
        answers(
            form_key=form_key(client),
            title="",
            problem="",
            people=None,
            better="Keep me <b>safe</b>",
        ),
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert error_summary(body) == [
        MSG_TITLE_REQUIRED,
        MSG_PROBLEM_REQUIRED,
        "Select how many people it affects",
    ]
    assert 'class="govuk-error-message"' in body
    assert "Keep me &lt;b&gt;safe&lt;/b&gt;</textarea>" in body
    assert 'value="5" checked' in body  # the frequency answer stays chosen
    draft = Opportunity.objects.get()
    assert draft.status == Status.DRAFT
    assert draft.better == "Keep me <b>safe</b>"


def test_too_long_text_is_refused_and_shown_as_typed(client_for, staff) -> None:
    client = client_for(staff)
    long_title = "x" * 121

    response = client.post(NEW, answers(form_key=form_key(client), title=long_title))

    assert response.status_code == 400
    body = response.content.decode()
    assert error_summary(body) == [MSG_TITLE_TOO_LONG]
    assert f'value="{long_title}"' in body
    assert Opportunity.objects.get().status == Status.DRAFT


def test_script_in_text_is_stored_as_text_and_escaped(client_for, staff) -> None:
    client = client_for(staff)
    script = "<script>alert('x')</script>"

    client.post(NEW, answers(form_key=form_key(client), title=f"Rota {script}", problem=script))

    opp = Opportunity.objects.get()
    assert opp.title == f"Rota {script}"
    body = client.get(f"/opportunities/{opp.reference}/").content.decode()
    assert script not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("journey", "999999", MSG_JOURNEY_UNKNOWN),
        ("journey", "abc", MSG_JOURNEY_UNKNOWN),
        ("step", "999999", MSG_STEP_UNKNOWN),
    ],
)
def test_unknown_journey_or_step_ids_are_refused(client_for, staff, field, value, message) -> None:
    client = client_for(staff)

    response = client.post(NEW, answers(form_key=form_key(client), **{field: value}))

    assert response.status_code == 400
    assert error_summary(response.content.decode()) == [message]
    assert Opportunity.objects.get().status == Status.DRAFT


def test_a_step_from_another_journey_is_refused(client_for, staff, journey, other_journey) -> None:
    client = client_for(staff)

    response = client.post(
        NEW,
        answers(form_key=form_key(client), journey=journey.pk, step=first_step(other_journey).pk),
    )

    assert response.status_code == 400
    assert error_summary(response.content.decode()) == [MSG_STEP_JOURNEY]
    draft = Opportunity.objects.get()
    assert draft.step_id is None


def test_a_step_with_not_sure_journey_takes_the_steps_journey(client_for, staff, journey) -> None:
    client = client_for(staff)

    client.post(NEW, answers(form_key=form_key(client), step=first_step(journey).pk))

    assert Opportunity.objects.get().journey == journey


def test_a_disguised_exe_is_refused_and_nothing_is_submitted(client_for, staff) -> None:
    client = client_for(staff)
    exe = SimpleUploadedFile(
        "screenshot.png", b"MZ\x90\x00" + b"\x00" * 64, content_type="image/png"
    )

    response = client.post(NEW, {**answers(form_key=form_key(client)), "attachments": [exe]})

    assert response.status_code == 400
    assert error_summary(response.content.decode())[0].startswith(
        "“screenshot.png” is not an image"
    )
    assert Opportunity.objects.get().status == Status.DRAFT
    assert not Attachment.objects.exists()


def test_fifty_uploads_are_refused_with_a_clear_message(client_for, staff) -> None:
    client = client_for(staff)
    files = [
        SimpleUploadedFile(f"s{i}.png", png_bytes(), content_type="image/png") for i in range(50)
    ]

    response = client.post(NEW, {**answers(form_key=form_key(client)), "attachments": files})

    assert response.status_code == 400
    assert error_summary(response.content.decode()) == [
        "You can attach up to 10 files. You chose 50, and 0 are already attached, so none of them were added."
    ]
    assert not Attachment.objects.exists()


def test_good_attachments_go_with_the_submission(client_for, staff) -> None:
    client = client_for(staff)
    image = SimpleUploadedFile("screen.png", png_bytes(), content_type="image/png")

    response = client.post(NEW, {**answers(form_key=form_key(client)), "attachments": [image]})

    assert response.status_code == 302
    opp = Opportunity.objects.get()
    assert opp.status == Status.SUBMITTED
    assert [a.original_name for a in opp.attachments.all()] == ["screen.png"]


def test_a_double_clicked_submit_makes_one_opportunity(client_for, staff) -> None:
    client = client_for(staff)
    data = answers(form_key=form_key(client))

    first = client.post(NEW, data)
    second = client.post(NEW, data)

    assert Opportunity.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_official_sensitive_is_restricted(client_for, staff) -> None:
    client = client_for(staff)

    client.post(NEW, answers(form_key=form_key(client), classification="official_sensitive"))

    assert Opportunity.objects.get().is_restricted


def test_save_and_come_back_later_keeps_a_partial_draft(client_for, staff) -> None:
    client = client_for(staff)

    response = client.post(
        NEW, answers(form_key=form_key(client), action="save", problem="", people=None)
    )

    draft = Opportunity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/opportunities/{draft.reference}/edit/"
    assert draft.status == Status.DRAFT
    page = client.get(response["Location"]).content.decode()
    assert "Your draft has been saved" in page
    assert "Custody booking asks for the same details three times" in page


def test_the_draft_resumes_and_submits(client_for, staff) -> None:
    client = client_for(staff)
    draft = DraftFactory(submitter=staff, title="Half done", problem="", people_affected=None)
    edit = f"/opportunities/{draft.reference}/edit/"

    page = client.get(edit).content.decode()
    assert 'value="Half done"' in page
    response = client.post(edit, answers(title="Now finished", people="25"))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED
    assert draft.title == "Now finished"


def test_editing_someone_elses_draft_is_forbidden(client_for, staff, other_staff) -> None:
    draft = DraftFactory(submitter=other_staff, title="Theirs")
    client = client_for(staff)
    edit = f"/opportunities/{draft.reference}/edit/"

    assert client.get(edit).status_code == 403
    assert client.post(edit, answers(title="Mine now")).status_code == 403
    draft.refresh_from_db()
    assert draft.title == "Theirs"


def test_someone_elses_form_key_cannot_reach_their_draft(client_for, staff, other_staff) -> None:
    theirs = client_for(other_staff)
    key = form_key(theirs)
    theirs.post(NEW, answers(form_key=key, action="save"))

    client_for(staff).post(NEW, answers(form_key=key, title="Mine", action="save"))

    titles = dict(Opportunity.objects.values_list("submitter_id", "title"))
    assert titles[other_staff.pk] == "Custody booking asks for the same details three times"
    assert titles[staff.pk] == "Mine"


def test_autosave_creates_then_updates_the_draft(client_for, staff) -> None:
    client = client_for(staff)
    key = form_key(client)

    first = client.post("/opportunities/new/autosave/", {"form_key": key, "title": "Dra"}, **HTMX)
    second = client.post(
        "/opportunities/new/autosave/",
        {"form_key": key, "title": "Draft title", "problem": "P"},
        **HTMX,
    )

    draft = Opportunity.objects.get()
    assert first.status_code == second.status_code == 200
    assert first["HX-Replace-Url"] == f"/opportunities/{draft.reference}/edit/"
    assert "HX-Replace-Url" not in second
    assert f"Draft {draft.reference} saved at" in second.content.decode()
    assert (draft.title, draft.problem) == ("Draft title", "P")


def test_autosave_reports_what_it_could_not_save(client_for, staff) -> None:
    client = client_for(staff)

    response = client.post(
        "/opportunities/new/autosave/", {"form_key": form_key(client), "title": "x" * 130}, **HTMX
    )

    assert "Not saved yet: title must be 120 characters or fewer." in response.content.decode()


def test_signed_out_autosave_keeps_the_text_for_after_signing_in(client_for, staff) -> None:
    client = client_for(staff)
    key = form_key(client)
    client.post("/opportunities/new/autosave/", {"form_key": key, "title": "Before"}, **HTMX)
    client.logout()  # the session timed out

    response = client.post(
        "/opportunities/new/autosave/", {"form_key": key, "title": "Typed after time-out"}, **HTMX
    )

    body = response.content.decode()
    assert "You have been signed out" in body
    assert "/accounts/login/?next=%2Fopportunities%2Fnew%2Fresume%2F" in body
    assert PENDING_SESSION_KEY in client.session

    client.force_login(staff)
    resumed = client.get("/opportunities/new/resume/")

    draft = Opportunity.objects.get()
    assert resumed["Location"] == f"/opportunities/{draft.reference}/edit/"
    assert draft.title == "Typed after time-out"


def test_a_signed_out_submit_is_kept_and_resumed(client: Client, client_for, staff) -> None:
    key = form_key(client_for(staff))

    response = client.post(NEW, answers(form_key=key, title="Posted after time-out"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/opportunities/new/resume/"
    assert not Opportunity.objects.exists()
    client.force_login(staff)
    client.get("/opportunities/new/resume/")
    assert Opportunity.objects.get().title == "Posted after time-out"


def test_someone_else_signing_in_gets_nothing_back(
    client: Client, client_for, staff, other_staff
) -> None:
    key = form_key(client_for(staff))
    client.post(NEW, answers(form_key=key, title="Staff's words"))

    client.force_login(other_staff)
    response = client.get("/opportunities/new/resume/")

    assert response["Location"] == NEW
    assert not Opportunity.objects.exists()


def test_a_forged_key_stashes_nothing(client: Client) -> None:
    fake = form_key_make(token=uuid.uuid4(), user_id=1) + "tampered"

    client.post(NEW, answers(form_key=fake))

    assert PENDING_SESSION_KEY not in client.session


def test_the_steps_of_the_chosen_journey(client_for, staff, journey, other_journey) -> None:
    response = client_for(staff).get(f"/opportunities/new/steps/?journey={journey.pk}", **HTMX)

    body = response.content.decode()
    assert "1. Book in" in body and "3. Risk assessment" in body
    assert "Take the report" not in body
    assert "<optgroup" not in body


def test_the_steps_for_an_unknown_journey_are_all_steps(
    client_for, staff, journey, other_journey
) -> None:
    body = client_for(staff).get("/opportunities/new/steps/?journey=nope", **HTMX).content.decode()

    assert "Book in" in body and "Take the report" in body


def test_similar_opportunities_are_suggested_with_the_shared_words_marked(
    client_for, staff
) -> None:
    OpportunityFactory(
        title="Body-worn video upload times out in the car",
        problem="Uploading <b>body-worn</b> video from the car keeps timing out.",
    )
    OpportunityFactory(title="Duty rota not visible on phones", problem="I ring the office.")

    response = client_for(staff).post(
        "/opportunities/new/similar/",
        {
            "title": "Video upload times out",
            "problem": "Body-worn video will not upload from the car",
        },
        **HTMX,
    )

    body = response.content.decode()
    assert "Body-worn video upload times out in the car" in re.sub(r"</?mark>", "", body)
    assert "<mark>upload</mark>" in body
    assert "&lt;b&gt;" in body or "<b>" not in body
    assert "Duty rota" not in body
    assert "This is my problem too" in body
    assert 'hx-swap-oob="true"' in body


def test_support_instead_supports_and_keeps_the_draft(client_for, staff) -> None:
    existing = OpportunityFactory(title="Body-worn video upload times out")
    client = client_for(staff)

    response = client.post(NEW, answers(form_key=form_key(client), support=existing.reference))

    assert response.status_code == 302
    assert response["Location"] == f"/opportunities/{existing.reference}/"
    assert Support.objects.filter(opportunity=existing, user=staff).exists()
    draft = Opportunity.objects.get(submitter=staff)
    assert draft.status == Status.DRAFT
    page = client.get(response["Location"]).content.decode()
    assert (
        html.unescape(page).count(MSG_SUPPORTED_INSTEAD.format(reference=existing.reference)) == 1
    )


def test_support_instead_of_a_restricted_one_is_not_found(client_for, staff) -> None:
    hidden = OpportunityFactory(classification="official_sensitive", is_restricted=True)
    client = client_for(staff)

    response = client.post(NEW, answers(form_key=form_key(client), support=hidden.reference))

    assert response.status_code == 404
    assert not Support.objects.exists()


def test_the_confirmation_is_only_for_the_submitter(client_for, staff, other_staff) -> None:
    opp = OpportunityFactory(submitter=staff)

    assert client_for(staff).get(f"/opportunities/{opp.reference}/submitted/").status_code == 200
    assert (
        client_for(other_staff).get(f"/opportunities/{opp.reference}/submitted/").status_code == 404
    )


def test_deleting_a_draft(client_for, staff, other_staff) -> None:
    draft = DraftFactory(submitter=staff)

    assert (
        client_for(other_staff).post(f"/opportunities/{draft.reference}/delete/").status_code == 403
    )
    response = client_for(staff).post(f"/opportunities/{draft.reference}/delete/")

    assert response["Location"] == "/me/"
    assert not Opportunity.objects.exists()


def test_removing_an_attachment_from_the_draft(client_for, staff) -> None:
    client = client_for(staff)
    key = form_key(client)
    image = SimpleUploadedFile("screen.png", png_bytes(), content_type="image/png")
    client.post(NEW, {**answers(form_key=key, action="attach"), "attachments": [image]})
    attachment = Attachment.objects.get()

    response = client.post(
        NEW, answers(form_key=key, action="save", remove_attachment=attachment.pk)
    )

    assert response.status_code == 302
    assert not Attachment.objects.exists()
