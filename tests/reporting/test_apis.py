"""The DDI service's extract API and the admins' extract page."""

from __future__ import annotations

import hashlib
import json

import pytest

from reporting.models import EtlBatch
from reporting.services.requests import TOPIC
from synergy_portal.models import OutboxMessage, Role
from tests.reporting.factories import build_force, run
from tests.synergy_portal.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "reporting"]),
    pytest.mark.urls("tests.reporting.urls"),
]

LIST = "/api/v1/extracts/"


@pytest.fixture
def batch():  # type: ignore[no-untyped-def]
    build_force()
    return run(full=True)


def _signed_in(client, *roles: Role):  # type: ignore[no-untyped-def]
    user = UserFactory(roles=set(roles))
    client.force_login(user)
    return client


def test_ddi_service_lists_batches_with_counts_and_files(client, batch, extract_dir) -> None:  # type: ignore[no-untyped-def]
    response = _signed_in(client, Role.DDI_SERVICE).get(LIST)

    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["batch_id"] == str(batch.pk)
    assert (item["state"], item["kind"]) == ("succeeded", "full")
    assert item["rows"]["fact_opportunity"] == 6
    assert item["watermark_to"] == batch.watermark_to
    names = [f["name"] for f in item["files"]]
    assert names[0] == "datapackage.json" and "fact_opportunity.parquet" in names


def test_ddi_service_downloads_files_that_match_their_hashes(client, batch, extract_dir) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in(client, Role.DDI_SERVICE)
    package = client.get(f"{LIST}{batch.pk}/files/datapackage.json")
    assert package.status_code == 200
    descriptor = json.loads(b"".join(package.streaming_content))
    resource = next(r for r in descriptor["resources"] if r["path"] == "fact_support.csv")

    response = client.get(f"{LIST}{batch.pk}/files/fact_support.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert "sha256:" + hashlib.sha256(body).hexdigest() == resource["hash"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "nope.csv", "..%2Fdatapackage.json"])
def test_unknown_or_escaping_file_names_are_not_found(client, batch, name) -> None:  # type: ignore[no-untyped-def]
    response = _signed_in(client, Role.DDI_SERVICE).get(f"{LIST}{batch.pk}/files/{name}")
    assert response.status_code == 404


def test_an_unknown_batch_is_not_found_as_json(client, batch) -> None:  # type: ignore[no-untyped-def]
    response = _signed_in(client, Role.DDI_SERVICE).get(
        f"{LIST}00000000-0000-0000-0000-000000000000/files/datapackage.json"
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "No such extract batch."}


@pytest.mark.parametrize("roles", [(), (Role.MANAGER,), (Role.CI_TEAM,), (Role.ADMIN,)])
def test_everyone_but_the_ddi_service_gets_403_json(client, batch, roles) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in(client, *roles)
    for url in (LIST, f"{LIST}{batch.pk}/files/datapackage.json"):
        response = client.get(url)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Your roles do not allow this."}


def test_anonymous_callers_are_refused(client, batch) -> None:  # type: ignore[no-untyped-def]
    assert client.get(LIST).status_code in (401, 403)


def test_admin_sees_batches_and_failures(client, batch) -> None:  # type: ignore[no-untyped-def]
    EtlBatch.objects.create(
        kind="incremental", state="failed", schema_version="1.0.0", error="Boom: disk full"
    )
    response = _signed_in(client, Role.ADMIN).get("/reporting/extracts/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "DDI extracts" in page and "Boom: disk full" in page and "Succeeded" in page
    assert "<script" not in page.split("</head>")[1]
    assert "style=" not in page


@pytest.mark.parametrize("roles", [(), (Role.MANAGER,), (Role.DDI_SERVICE,)])
def test_others_cannot_see_the_extract_page_or_run_it(client, roles) -> None:  # type: ignore[no-untyped-def]
    client = _signed_in(client, *roles)
    assert client.get("/reporting/extracts/").status_code == 403
    assert client.post("/reporting/extracts/run/", {"full": "0"}).status_code == 403
    assert not OutboxMessage.objects.filter(topic=TOPIC).exists()


def test_run_now_queues_the_extract_through_the_outbox(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("synergy_portal.outbox.outbox_dispatch", lambda **kwargs: 0)
    client = _signed_in(client, Role.ADMIN)

    response = client.post("/reporting/extracts/run/", {"full": "1"})

    assert response.status_code == 302 and response["Location"] == "/reporting/extracts/"
    message = OutboxMessage.objects.get(topic=TOPIC)
    assert message.payload["full"] is True
    assert message.payload["trigger"].startswith("admin:")
