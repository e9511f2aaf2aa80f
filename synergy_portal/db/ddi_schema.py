"""The ``reporting`` alias keeps everything in the PostgreSQL schema ``ddi``.

On each new connection of that alias the schema is created if missing and selected as the
only search path, so the alias's own ``django_migrations`` table lands in ``ddi`` (not in
``public``, where the portal's migration history would hide the reporting migrations when
both aliases share a server). The stock engine is kept so that, when both aliases name the
same database, Django's test runner treats them as one test database.
"""

from __future__ import annotations

from typing import Any

from synergy_portal.db.routers import REPORTING_ALIAS

DDI_SCHEMA = "ddi"


def select_ddi_schema(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.alias != REPORTING_ALIAS:
        return
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [DDI_SCHEMA])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {DDI_SCHEMA}")
        cursor.execute(f"SET search_path TO {DDI_SCHEMA}")
        if not connection.connection.autocommit:
            connection.connection.commit()
