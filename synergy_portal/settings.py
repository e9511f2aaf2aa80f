"""Synergy Portal settings: one module, configured from the environment (12-factor).

It fails closed: with ``DEBUG`` off it refuses to start with the development secret key,
with the developer sign-in enabled, or without explicit ``ALLOWED_HOSTS``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "django-insecure-synergy-portal-development-only"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
SYNERGY_DEV_LOGIN = env.bool("SYNERGY_DEV_LOGIN", default=False)

if not DEBUG:
    problems = []
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY must be set to a long random value")
    if SYNERGY_DEV_LOGIN:
        problems.append("SYNERGY_DEV_LOGIN must be off")
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must name the portal's hosts explicitly")
    if problems:
        raise ImproperlyConfigured("Refusing to start with DEBUG off: " + "; ".join(problems) + ".")
elif not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    # Always installed so migrations never depend on DEBUG; its authentication class is only
    # enabled when DEBUG is on (see REST_FRAMEWORK below).
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "django_celery_beat",
    "template_partials",
    "csp",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "synergy_portal",
    "journeys",
    "opportunities",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "synergy_portal.middleware.NoStoreForSignedInMiddleware",
]

ROOT_URLCONF = "synergy_portal.urls"
WSGI_APPLICATION = "synergy_portal.wsgi.application"
ASGI_APPLICATION = "synergy_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "synergy_portal.context_processors.portal",
            ],
        },
    }
]

# --- Databases: PostgreSQL everywhere -------------------------------------------------------


def _database(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    if not config["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("Synergy Portal runs on PostgreSQL only (DATABASE_URL).")
    # A Unix-socket host arrives percent-encoded (postgres://user@%2Fpath%2Fto%2Fsocket/db).
    config["HOST"] = unquote(str(config.get("HOST", "")))
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Use `make run` / `make test` (they start a private "
        "PostgreSQL under .data/) or point DATABASE_URL at a PostgreSQL server."
    )
DATABASES = {
    "default": _database(DATABASE_URL),
    "reporting": _database(env.str("REPORTING_DATABASE_URL", default=DATABASE_URL)),
}
DATABASE_ROUTERS = ["synergy_portal.db.routers.ReportingRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery, cache ---------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
if not CELERY_BROKER_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. Use `make run` / `make test` (they start a private Redis "
        "under .data/) or point REDIS_URL at a Redis server."
    )
REDIS_URL = REDIS_URL or CELERY_BROKER_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/London"
CELERY_IMPORTS = ["opportunities.board_tasks"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Longer than the longest job (the nightly extract), so a late-acked task is not redelivered
# while it is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600),
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
}
# A commit must never hang on a dead broker: publish fails fast and the outbox sweeper
# re-sends the row later.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
OUTBOX_SWEEP_SECONDS = env.int("OUTBOX_SWEEP_SECONDS", default=30)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}

# --- Identity ---------------------------------------------------------------------------------

AUTH_USER_MODEL = "synergy_portal.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
ENTRA_TENANT_ID = env.str("ENTRA_TENANT_ID", default="")
ENTRA_CLIENT_ID = env.str("ENTRA_CLIENT_ID", default="")
ENTRA_CLIENT_SECRET = env.str("ENTRA_CLIENT_SECRET", default="")
ENTRA_AUTHORITY = env.str(
    "ENTRA_AUTHORITY",
    default=f"https://login.microsoftonline.com/{ENTRA_TENANT_ID}" if ENTRA_TENANT_ID else "",
)
ENTRA_REDIRECT_URI = env.str("ENTRA_REDIRECT_URI", default="")
ENTRA_API_AUDIENCE = env.str("ENTRA_API_AUDIENCE", default="")
# Where Entra ID sends the browser after its own sign-out; must also be a registered redirect
# URI. Empty: the portal's home page on the host of the request.
ENTRA_POST_LOGOUT_REDIRECT_URI = env.str("ENTRA_POST_LOGOUT_REDIRECT_URI", default="")
# A PEM bundle that alone is trusted for the identity provider's TLS certificate (a pinned
# corporate CA, or a test CA). When set, environment variables such as REQUESTS_CA_BUNDLE and
# proxy settings are ignored for calls to the identity provider (they override `verify=`).
ENTRA_CA_BUNDLE = env.str("ENTRA_CA_BUNDLE", default="")
ENTRA_HTTP_TIMEOUT = env.float("ENTRA_HTTP_TIMEOUT", default=10.0)
# Entra ID app role value -> portal role (synergy_portal.models.Role value). A person with none
# of these app roles is Staff.
ENTRA_ROLE_MAP: dict[str, str] = {
    "Synergy.CITeam": "ci_team",
    "Synergy.JourneyOwner": "journey_owner",
    "Synergy.Manager": "manager",
    "Synergy.Admin": "admin",
    "Synergy.DDI": "ddi_service",
}
if ENTRA_CLIENT_ID and not DEBUG:
    _entra_missing = [
        name
        for name, value in (
            ("ENTRA_TENANT_ID", ENTRA_TENANT_ID),
            ("ENTRA_CLIENT_SECRET", ENTRA_CLIENT_SECRET),
            ("ENTRA_AUTHORITY", ENTRA_AUTHORITY),
            ("ENTRA_REDIRECT_URI", ENTRA_REDIRECT_URI),
        )
        if not value
    ]
    if _entra_missing:
        raise ImproperlyConfigured(
            "Entra ID sign-in is half configured: set " + ", ".join(_entra_missing) + "."
        )
    if not ENTRA_REDIRECT_URI.startswith("https://"):
        raise ImproperlyConfigured("ENTRA_REDIRECT_URI must be an https:// address.")
PSEUDONYM_KEY = env.str("PSEUDONYM_KEY", default=SECRET_KEY)

# --- Sessions, cookies and security headers ---------------------------------------------------

SECURE_COOKIES = env.bool("SECURE_COOKIES", default=not DEBUG)
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A shift: signed out after 10 hours whatever happens, or after 60 idle minutes.
SESSION_COOKIE_AGE = env.int("SESSION_ABSOLUTE_SECONDS", default=10 * 3600)
SESSION_IDLE_SECONDS = env.int("SESSION_IDLE_SECONDS", default=3600)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

if ENTRA_AUTHORITY:
    # Signing out redirects the sign-out form's POST to Entra ID's end-session endpoint, and
    # browsers apply form-action to the redirect target as well.
    from urllib.parse import urlsplit as _urlsplit

    _entra_parts = _urlsplit(ENTRA_AUTHORITY)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        f"{_entra_parts.scheme}://{_entra_parts.netloc}"
    )

# --- Static and media -------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".data" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "synergy_portal.staticfinders.PortalFileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".data" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="synergy-portal@localhost")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- API --------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Entra ID bearer tokens first, so a 401 carries `WWW-Authenticate: Bearer`. DRF's own
    # tokens are a local convenience only: never accepted with DEBUG off.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "synergy_portal.api_auth.EntraBearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        *(["rest_framework.authentication.TokenAuthentication"] if DEBUG else []),
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "synergy_portal.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Synergy Portal API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Locale -----------------------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "security_json": {"()": "synergy_portal.security_log.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "security": {"class": "logging.StreamHandler", "formatter": "security_json"},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "synergy.security": {"handlers": ["security"], "level": "INFO", "propagate": False},
    },
}

CELERY_BEAT_SCHEDULE = {
    "ddi-extract-nightly": {
        "task": "reporting.extract_nightly",
        "schedule": crontab(
            hour=env.int("EXTRACT_NIGHTLY_HOUR", default=2),
            minute=env.int("EXTRACT_NIGHTLY_MINUTE", default=30),
        ),
    },
    "ddi-extract-refresh": {
        "task": "reporting.extract_refresh",
        "schedule": env.float("EXTRACT_REFRESH_SECONDS", default=15 * 60.0),
        "options": {"expires": 14 * 60},
    },
    "outbox-sweep": {"task": "outbox.sweep", "schedule": float(OUTBOX_SWEEP_SECONDS)},
    "board-deadline-escalation": {
        "task": "board.deadlines_escalate",
        "schedule": crontab(hour=7, minute=30, day_of_week="mon-fri"),
    },
    "board-you-said-we-did": {
        "task": "board.you_said_we_did",
        "schedule": crontab(hour=8, minute=0, day_of_month=1),
    },
    # E-mails held back by the one-an-hour-per-opportunity rule.
    "notification-emails-due": {"task": "notifications.email_due", "schedule": 300.0},
}

# Audit trail (django-pghistory on django-pgtrigger). Triggers are installed by migrations;
# installing on migrate as well covers the auto-created user↔group table (role changes).
PGTRIGGER_INSTALL_ON_MIGRATE = True
PGHISTORY_APPEND_ONLY = True

# Rate limits: counted in the Redis cache; a refusal is a 429 with Retry-After.
RATELIMIT_VIEW = "synergy_portal.ratelimits.too_many_requests"
RATELIMIT_USE_CACHE = "default"
RATELIMIT_IP_META_KEY = "REMOTE_ADDR"

# DDI extracts: files land in EXTRACT_DIR/<date>/<batch id>/ (a volume shared by web and worker).
EXTRACT_DIR = env.path("EXTRACT_DIR", default=BASE_DIR / ".data" / "extracts")
REPORTING_EXTRACT_RETENTION_DAYS = env.int("REPORTING_EXTRACT_RETENTION_DAYS", default=30)
# Memory the extract's own sessions may use for sorts, hashes and index builds (PostgreSQL's
# work_mem / maintenance_work_mem, set for the batch's transactions only).
REPORTING_EXTRACT_WORK_MEM = env.str("REPORTING_EXTRACT_WORK_MEM", default="128MB")
REPORTING_EXTRACT_MAINTENANCE_WORK_MEM = env.str(
    "REPORTING_EXTRACT_MAINTENANCE_WORK_MEM", default="512MB"
)
REPORTING_CHANGELOG_RETENTION_DAYS = env.int("REPORTING_CHANGELOG_RETENTION_DAYS", default=7)
# Bank holidays left out of working days (deadlines, delivery cycles, dashboards): the UK
# region, ENG (England and Wales), SCT (Scotland) or NIR (Northern Ireland).
BANK_HOLIDAYS_REGION = env.str("BANK_HOLIDAYS_REGION", default="ENG")
TEAMS_WEBHOOK_URL = env.str("TEAMS_WEBHOOK_URL", default="")
