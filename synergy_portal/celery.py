"""The Celery application: Redis broker, tasks discovered in every app."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synergy_portal.settings")

app = Celery("synergy_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
