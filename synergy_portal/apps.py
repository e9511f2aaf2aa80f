from django.apps import AppConfig


class SynergyPortalConfig(AppConfig):
    name = "synergy_portal"
    verbose_name = "Synergy Portal: identity, outbox, audit"
