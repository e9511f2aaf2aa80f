"""Test settings: the real settings with a few test-only changes."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SYNERGY_DEV_LOGIN", "1")
os.environ.setdefault("SECURE_COOKIES", "0")

from synergy_portal.settings import *  # noqa: E402,F403
from synergy_portal.settings import BASE_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Under live_server WhiteNoise's hashed names 404: plain storage in tests.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / ".data" / "test-media"
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
CONN_MAX_AGE = 0
for _db in DATABASES.values():
    _db["CONN_MAX_AGE"] = 0
CELERY_TASK_ALWAYS_EAGER = False
os.makedirs(str(STATIC_ROOT), exist_ok=True)  # noqa: F405 - quiets WhiteNoise's missing-root warning
# Serve static files from the source folders, never from a stale collected copy.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
