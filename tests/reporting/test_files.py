"""A batch's files: CSV and Parquet per table, a Frictionless data package, pseudonymity."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import time

import pyarrow.parquet as pq
import pytest
from django.utils import timezone
from frictionless import validate

from reporting.models import SCHEMA_VERSION, EtlBatch
from reporting.services.files import files_prune
from reporting.services.pseudonyms import person_key
from tests.reporting.factories import TRICKY_REASON, TRICKY_TITLE, build_force, run

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])


def _package(extract_dir, batch):  # type: ignore[no-untyped-def]
    folder = extract_dir / batch.files_path
    return folder, json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def test_datapackage_hashes_sizes_and_rows_match_and_frictionless_validates(extract_dir) -> None:  # type: ignore[no-untyped-def]
    build_force()
    batch = run(full=True)

    folder, package = _package(extract_dir, batch)

    assert batch.files_path == f"{timezone.localdate(batch.started_at).isoformat()}/{batch.pk}"
    meta = package["synergy"]
    assert (meta["batch_id"], meta["schema_version"], meta["mode"]) == (
        str(batch.pk),
        SCHEMA_VERSION,
        "full",
    )
    assert meta["watermark_to"] == batch.watermark_to
    for resource in package["resources"]:
        data = (folder / resource["path"]).read_bytes()
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["bytes"] == len(data)
        assert batch.checksums[resource["path"]] == hashlib.sha256(data).hexdigest()
        if resource["format"] == "parquet":
            assert (
                pq.ParquetFile(folder / resource["path"]).metadata.num_rows
                == resource["synergy:rows"]
            )
    csvs = {r["name"]: r for r in package["resources"] if r["format"] == "csv"}
    assert csvs["fact_opportunity"]["rows"] == batch.rows["fact_opportunity"] == 6
    report = validate(folder / "datapackage.json")
    assert report.valid, report.flatten(["resourceName", "type", "note"])
    # datapackage.json is written last and nothing is left behind.
    assert not list(extract_dir.glob("*/.tmp-*"))


def test_incremental_package_lists_replaced_opportunities_and_validates(extract_dir) -> None:  # type: ignore[no-untyped-def]
    force = build_force()
    run(full=True)
    backlog, submitted = force.opportunities["backlog"], force.opportunities["submitted"]
    backlog.supports.create(user=force.users["ci"])
    type(submitted).objects.filter(pk=submitted.pk).update(title="Only the title changed")

    batch = run()

    folder, package = _package(extract_dir, batch)
    assert package["synergy"]["mode"] == "incremental"
    with (folder / "replaced_opportunities.csv").open(newline="", encoding="utf-8") as handle:
        assert sorted(csv.reader(handle)) == sorted(
            [
                ["opportunity_id", "replaces"],
                [str(backlog.pk), "all"],
                [str(submitted.pk), "fact_opportunity"],
            ]
        )
    with (folder / "fact_opportunity.csv").open(newline="", encoding="utf-8") as handle:
        assert sorted(row["opportunity_id"] for row in csv.DictReader(handle)) == sorted(
            [str(backlog.pk), str(submitted.pk)]
        )
    # The retitled opportunity's supports did not change and are not in the package.
    with (folder / "fact_support.csv").open(newline="", encoding="utf-8") as handle:
        assert {row["opportunity_id"] for row in csv.DictReader(handle)} == {str(backlog.pk)}
    assert validate(folder / "datapackage.json").valid


def test_unicode_quotes_and_newlines_survive_csv_and_parquet(extract_dir) -> None:  # type: ignore[no-untyped-def]
    build_force()
    batch = run(full=True)
    folder, _ = _package(extract_dir, batch)

    raw = (folder / "fact_status_change.csv").read_bytes()
    assert raw.startswith(b'"status_change_id"') and b"\r\n" in raw
    with (folder / "fact_status_change.csv").open(newline="", encoding="utf-8") as handle:
        reasons = {row["reason"] for row in csv.DictReader(handle)}
    with (folder / "fact_opportunity.csv").open(newline="", encoding="utf-8") as handle:
        titles = {row["title"] for row in csv.DictReader(handle)}
    assert TRICKY_REASON in reasons
    assert TRICKY_TITLE in titles
    table = pq.read_table(folder / "fact_status_change.parquet")
    assert TRICKY_REASON in table.column("reason").to_pylist()
    # A missing value and an empty string stay different: empty is quoted.
    assert ',"",' in raw.decode()


def test_person_keys_are_stable_hmacs_and_no_identity_leaves(extract_dir, settings) -> None:  # type: ignore[no-untyped-def]
    force = build_force()
    first = run(full=True)
    from reporting.models import DimPerson

    keys = set(DimPerson.objects.values_list("person_key", flat=True))
    second = run(full=True)

    assert set(DimPerson.objects.values_list("person_key", flat=True)) == keys
    submitter, local = force.users["submitter"], force.users["local"]
    assert person_key(user_id=submitter.pk, tid=submitter.tid, oid=submitter.oid) in keys
    assert person_key(user_id=local.pk, tid="", oid="") in keys
    identities = set()
    for user in force.users.values():
        identities |= {user.display_name, user.email, user.username, user.oid}
    identities.discard("")
    for batch in (first, second):
        folder, _ = _package(extract_dir, batch)
        for path in folder.iterdir():
            if path.suffix == ".csv":
                text = path.read_text(encoding="utf-8")
                assert not [i for i in identities if i in text], path.name
    settings.PSEUDONYM_KEY = "rotated"
    run(full=True)
    assert not keys & set(DimPerson.objects.values_list("person_key", flat=True))


def test_refresh_batches_write_no_files(extract_dir) -> None:  # type: ignore[no-untyped-def]
    build_force()
    run(full=True)
    refresh = run(files=False)
    assert refresh.files_path == "" and refresh.checksums == {}
    assert len(list(extract_dir.glob("*/*"))) == 1


def test_retention_prunes_old_day_folders_and_abandoned_temporary_ones(extract_dir) -> None:  # type: ignore[no-untyped-def]
    old = extract_dir / "2020-01-01" / "some-batch"
    old.mkdir(parents=True)
    abandoned = extract_dir / "2099-01-01" / ".tmp-x"
    abandoned.mkdir(parents=True)
    os.utime(abandoned, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    fresh = extract_dir / "2099-01-01" / "kept"
    fresh.mkdir()

    removed = files_prune(days=30)

    assert set(removed) == {old.parent, abandoned}
    assert fresh.is_dir()
    assert EtlBatch.objects.count() == 0
