"""The read-only role DDI's ingestion signs in with (``manage.py ddi_reader_role``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from tests.reporting.factories import build_force, run

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "reporting"])


@pytest.fixture
def reader() -> Iterator[str]:
    role = f"ddi_reader_{uuid.uuid4().hex[:10]}"
    call_command("ddi_reader_role", "--role", role)
    try:
        yield role
    finally:
        call_command("ddi_reader_role", "--role", role, "--drop")


def _connect(role: str) -> psycopg.Connection:
    params = connections["reporting"].get_connection_params()
    return psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        dbname=params["dbname"],
        user=role,
        autocommit=True,
    )


def test_the_reader_reads_every_ddi_table_and_view(reader: str) -> None:
    build_force()
    run(full=True)

    with _connect(reader) as conn:
        # Its search path is the ddi schema: table names need no prefix.
        assert conn.execute("SELECT count(*) FROM fact_opportunity").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM fact_opportunity_daily").fetchone()[0] > 0
        # etl_batch names who started each batch: the portal's, not DDI's.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM etl_batch")


def test_the_reader_cannot_write_or_read_the_portal(reader: str) -> None:
    with _connect(reader) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM fact_support")
        # Even after turning its read-only default off, it has no right to write.
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM fact_support")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE ddi.sneaky (id int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM public.opportunities_opportunity")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM public.synergy_portal_user")


def test_running_it_again_is_harmless_and_covers_new_tables(reader: str) -> None:
    call_command("ddi_reader_role", "--role", reader)
    with connections["reporting"].cursor() as cursor:
        # A table a later migration adds (as the migrating role) is readable at once.
        cursor.execute("CREATE TABLE ddi_later_table (id int)")
        cursor.execute("INSERT INTO ddi_later_table VALUES (7)")
    try:
        with _connect(reader) as conn:
            assert conn.execute("SELECT id FROM ddi_later_table").fetchone() == (7,)
    finally:
        with connections["reporting"].cursor() as cursor:
            cursor.execute("DROP TABLE ddi_later_table")


def test_a_bad_role_name_is_refused() -> None:
    with pytest.raises(CommandError, match="not allowed"):
        call_command("ddi_reader_role", "--role", 'x"; DROP TABLE fact_opportunity; --')


def test_it_leaves_roles_it_did_not_create_alone() -> None:
    with connections["reporting"].cursor() as cursor:
        cursor.execute("SELECT current_user")
        me = cursor.fetchone()[0]
    for args in (["--role", me], ["--role", me, "--drop"]):
        with pytest.raises(CommandError, match="left alone"):
            call_command("ddi_reader_role", *args)
    other = f"someone_{uuid.uuid4().hex[:10]}"
    with connections["reporting"].cursor() as cursor:
        cursor.execute(f"CREATE ROLE {other}")
    try:
        for args in (["--role", other], ["--role", other, "--drop"]):
            with pytest.raises(CommandError, match="not created by this command"):
                call_command("ddi_reader_role", *args)
    finally:
        with connections["reporting"].cursor() as cursor:
            cursor.execute(f"DROP ROLE {other}")


def test_the_password_is_stored_as_a_scram_verifier(monkeypatch, reader: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DDI_READER_PASSWORD", "correct horse battery staple")
    call_command("ddi_reader_role", "--role", reader)
    with connections["reporting"].cursor() as cursor:
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [reader])
        stored = cursor.fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$")
    assert "correct horse" not in stored
