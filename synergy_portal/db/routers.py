"""Send the ``reporting`` app (the DDI star schema) to its own database alias."""

from __future__ import annotations

from typing import Any

REPORTING_APP = "reporting"
REPORTING_ALIAS = "reporting"


class ReportingRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return REPORTING_ALIAS if model._meta.app_label == REPORTING_APP else None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return REPORTING_ALIAS if model._meta.app_label == REPORTING_APP else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        in_reporting = {
            obj1._meta.app_label == REPORTING_APP,
            obj2._meta.app_label == REPORTING_APP,
        }
        return None if len(in_reporting) == 1 else False

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        if app_label == REPORTING_APP:
            return db == REPORTING_ALIAS
        return db != REPORTING_ALIAS
