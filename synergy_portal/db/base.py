"""PostgreSQL backend for the ``reporting`` alias: everything lives in the ``ddi`` schema.

The schema is created on first connection if it is missing, so that the alias's own
``django_migrations`` table lands in ``ddi`` (and not in ``public``, where the portal's
migration history would hide the reporting migrations when both aliases share a server).
"""

from __future__ import annotations

from django.db.backends.postgresql import base

DDI_SCHEMA = "ddi"


class DatabaseWrapper(base.DatabaseWrapper):
    def init_connection_state(self) -> None:
        super().init_connection_state()
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [DDI_SCHEMA])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {DDI_SCHEMA}")
            cursor.execute(f"SET search_path TO {DDI_SCHEMA}")
