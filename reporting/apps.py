from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "DDI reporting schema"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from synergy_portal.db.ddi_schema import select_ddi_schema

        # The reporting alias must never run a statement outside the ``ddi`` schema; the same
        # dispatch_uid as synergy_portal's AppConfig, so the hook is connected exactly once
        # whichever of the two runs.
        connection_created.connect(select_ddi_schema, dispatch_uid="select_ddi_schema")
        # Registers the outbox handler that publishes requested extracts.
        from reporting.services import requests  # noqa: F401
