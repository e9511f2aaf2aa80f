from django.apps import AppConfig


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = "Synergy Opportunities"

    def ready(self) -> None:
        # Registers the outbox handlers in every process (web, worker, beat).
        from opportunities import notifications  # noqa: F401
        from opportunities.services import rescoring  # noqa: F401
