from django.apps import AppConfig


class SynergyPortalConfig(AppConfig):
    name = "synergy_portal"
    verbose_name = "Synergy Portal: identity, outbox, audit"

    def ready(self) -> None:
        # Every Django process (web, worker, beat, commands) uses the project's Celery app,
        # so @shared_task publishes to the configured broker.
        from django.db.backends.signals import connection_created

        from synergy_portal.celery import app  # noqa: F401
        from synergy_portal.db.ddi_schema import select_ddi_schema

        connection_created.connect(select_ddi_schema, dispatch_uid="select_ddi_schema")
