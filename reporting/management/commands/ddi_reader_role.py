"""``manage.py ddi_reader_role [--role NAME] [--password-env VAR] [--drop]``.

Creates (or brings up to date) the read-only PostgreSQL role DDI's ingestion signs in with:
it can read every table and view of the ``ddi`` schema, including tables added by later
migrations, and nothing else: no portal table, no writes, no schema changes. Safe to run
again after every deployment.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction
from psycopg import sql

from synergy_portal.db.ddi_schema import DDI_SCHEMA
from synergy_portal.db.routers import REPORTING_ALIAS

DEFAULT_ROLE = "ddi_reader"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Set on the roles this command creates; it alters or drops no other role.
MARKER = "Synergy Portal: read-only role for DDI's ingestion (manage.py ddi_reader_role)"
# Readable by the portal only: etl_batch names who started each batch and keeps raw errors;
# django_migrations is the alias's own bookkeeping. (Views reading them run with their
# owner's rights, so fact_opportunity_daily still works.)
NOT_FOR_DDI = ("etl_batch", "django_migrations")
MSG_NOT_OURS = (
    "Role {role} exists and was not created by this command: it is left alone. "
    "Choose another name with --role."
)
MSG_SELF = "Role {role} is the role this command connects as: it is left alone."


class Command(BaseCommand):
    help = "Create or update the read-only database role for DDI's ingestion."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", default=DEFAULT_ROLE, help="Role name (default ddi_reader).")
        parser.add_argument(
            "--password-env",
            default="DDI_READER_PASSWORD",
            help="Environment variable holding the role's password (default "
            "DDI_READER_PASSWORD). Without it the role cannot sign in with a password.",
        )
        parser.add_argument(
            "--drop", action="store_true", help="Remove the role and its privileges instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        if not ROLE_NAME.match(role):
            raise CommandError(
                f"Role name {role!r} is not allowed: use lower-case letters, digits and _."
            )
        connection = connections[REPORTING_ALIAS]
        with transaction.atomic(using=REPORTING_ALIAS), connection.cursor() as cursor:
            raw = cursor.cursor
            if options["drop"]:
                self._drop(raw, role)
                return
            password = os.environ.get(options["password_env"], "")
            self._ensure(raw, role, password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Role {role} can read schema {DDI_SCHEMA} (tables and views, now and later, "
                f"but not {' or '.join(NOT_FOR_DDI)}) and nothing else."
                + ("" if password else f" No password set: export {options['password_env']}.")
            )
        )

    def _existing(self, cursor: Any, role: str) -> bool:
        """Whether ``role`` exists; refuses one this command did not create, and itself."""
        cursor.execute("SELECT current_user, session_user")
        if role in cursor.fetchone():
            raise CommandError(MSG_SELF.format(role=role))
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s",
            [role],
        )
        found = cursor.fetchone()
        if found is None:
            return False
        if found[0] != MARKER:
            raise CommandError(MSG_NOT_OURS.format(role=role))
        return True

    def _ensure(self, cursor: Any, role: str, password: str) -> None:
        name = sql.Identifier(role)
        schema = sql.Identifier(DDI_SCHEMA)
        verb = "ALTER" if self._existing(cursor, role) else "CREATE"
        options = sql.SQL(
            "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
        )
        if password:
            # Sent as a SCRAM verifier, never as the password itself (statement logs).
            verifier = cursor.connection.pgconn.encrypt_password(
                password.encode(), role.encode(), b"scram-sha-256"
            )
            options = sql.SQL("{} PASSWORD {}").format(options, sql.Literal(verifier.decode()))
        cursor.execute(sql.SQL(verb + " ROLE {} WITH {}").format(name, options))
        cursor.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(name, sql.Literal(MARKER)))
        cursor.execute("SELECT current_database()")
        database = sql.Identifier(cursor.fetchone()[0])
        for statement in (
            "GRANT CONNECT ON DATABASE {database} TO {name}",
            "REVOKE CREATE ON SCHEMA public FROM {name}",
            "GRANT USAGE ON SCHEMA {schema} TO {name}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {name}",
            # Tables a later migration creates (as the role running migrations, this one).
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {name}",
            "ALTER ROLE {name} SET search_path = {schema}",
            "ALTER ROLE {name} SET default_transaction_read_only = on",
        ):
            cursor.execute(sql.SQL(statement).format(database=database, name=name, schema=schema))
        for table in NOT_FOR_DDI:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{DDI_SCHEMA}.{table}"])
            if cursor.fetchone()[0]:
                cursor.execute(
                    sql.SQL("REVOKE ALL ON {}.{} FROM {}").format(
                        schema, sql.Identifier(table), name
                    )
                )

    def _drop(self, cursor: Any, role: str) -> None:
        if not self._existing(cursor, role):
            self.stdout.write(f"Role {role} does not exist.")
            return
        name = sql.Identifier(role)
        # DROP OWNED also removes the role's grants and default privileges in this database.
        cursor.execute(sql.SQL("DROP OWNED BY {}").format(name))
        cursor.execute("SELECT current_database()")
        database = sql.Identifier(cursor.fetchone()[0])
        cursor.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM {}").format(database, name))
        cursor.execute(sql.SQL("DROP ROLE {}").format(name))
        self.stdout.write(self.style.SUCCESS(f"Role {role} dropped."))
