"""One flat settings module, read from the environment (../shared/DESIGN.md 4.3).

Production is the default: with DEBUG unset the app starts only with a strong SECRET_KEY
and real Fernet keys. DEBUG=1 (`make demo`, the test settings) is development: SQLite
under var/, a broker that needs no server, development keys.
"""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0 or true/false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


# WAL: readers never block a writer (web, worker and the embedded simulator share the
# file). IMMEDIATE: a transaction takes the write lock when it begins, so two writers queue
# (busy timeout) instead of failing on a stale read snapshot. Every SQLite file gets them:
# without them a second process on the file (a worker) fails at once with "database is
# locked" under concurrency.
SQLITE_OPTIONS = {
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL;",
    "transaction_mode": "IMMEDIATE",
}


def database_from_url(url: str | None) -> dict:
    """postgres://user:pass@host:port/name?opt=v  or  sqlite:///path (default: var/), read by
    dj-database-url (https://github.com/jazzband/dj-database-url)."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "backoffice.sqlite3",
            # A file (not :memory:) so a Celery worker started by a test sees the test data.
            "TEST": {"NAME": VAR_DIR / "test-backoffice.sqlite3"},
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    try:
        config: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=envint("DB_CONN_MAX_AGE", 0))
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    elif config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"DATABASE_URL: unsupported database {config['ENGINE']!r}")
    return config


# Off unless asked for: `make demo`, `manage.py rundemo` and the test settings turn it on.
# On, the app uses development keys anyone can read and shows Django's debug page.
DEBUG = envbool("DEBUG", "0")

DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = os.getenv("SECRET_KEY", DEV_SECRET_KEY if DEBUG else "")

# Fernet keys, comma separated, newest first (older ones still decrypt: key rotation).
# In development one key is derived from SECRET_KEY so nothing needs configuring.
_dev_fernet = base64.urlsafe_b64encode(hashlib.sha256(f"fernet:{SECRET_KEY}".encode()).digest())
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEY", "") or (
    [_dev_fernet.decode()] if DEBUG else []
)


def check_production_keys(secret_key: str, fernet_keys: list[str]) -> None:
    """With DEBUG off the app starts only with real keys: a SECRET_KEY that passes
    Django's own strength check (security.W009: 50+ characters, 5+ different ones, no
    "django-insecure-") and every FIELD_ENCRYPTION_KEY a Fernet key. Never prints a key."""
    from cryptography.fernet import Fernet

    # Private to Django (what security.W009 runs), so django-stubs leaves it out.
    from django.core.checks.security.base import _check_secret_key  # type: ignore[attr-defined]

    make_secret = 'python3 -c "import secrets; print(secrets.token_urlsafe(50))"'
    make_fernet = (
        'python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
    )
    if not secret_key:
        raise ImproperlyConfigured(f"SECRET_KEY must be set when DEBUG is off ({make_secret})")
    if secret_key == DEV_SECRET_KEY or not _check_secret_key(secret_key):
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak for DEBUG off: Django wants 50+ characters with 5+ "
            f"different ones, not the development key and not django-insecure-… ({make_secret})"
        )
    if not fernet_keys:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEY must be set when DEBUG is off ({make_fernet})"
        )
    for position, key in enumerate(fernet_keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY: key {position} of {len(fernet_keys)} is not a Fernet "
                f"key (32 bytes, url-safe base64; {make_fernet})"
            ) from None


if not DEBUG:
    check_production_keys(SECRET_KEY, FIELD_ENCRYPTION_KEYS)

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "backoffice",
    "settlements",
    "accounting",
    "integrations.visma",
    "saft",
]

# The Visma sandbox simulator (visma_sandbox/) is test and demo equipment, never part of a
# production deployment: it is refused with DEBUG off unless forced for a staging demo.
VISMA_SANDBOX = envbool("VISMA_SANDBOX", "0")
if VISMA_SANDBOX and not DEBUG and not envbool("VISMA_SANDBOX_FORCE", "0"):
    raise ImproperlyConfigured(
        "VISMA_SANDBOX is refused when DEBUG is off (set VISMA_SANDBOX_FORCE=1 for a staging demo)"
    )
if VISMA_SANDBOX:
    INSTALLED_APPS.append("visma_sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backoffice.middleware.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "backoffice.middleware.PrivatePagesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it answers a locked-out sign-in (backoffice.signin.locked_out).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

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
                "django.template.context_processors.i18n",
                "backoffice.context_processors.shell",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(os.getenv("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# The lock-out after repeated failed sign-ins (django-axes), at /accounts/login/ and
# /admin/login/: 5 failures for one username, or from one address, lock that username or
# address for 15 minutes (each further try during the lock starts the 15 minutes again).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("SIGNIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "backoffice.signin.locked_out"
AXES_CLIENT_IP_CALLABLE = "backoffice.throttle.client_ip"
AXES_RESET_ON_SUCCESS = True
# Two-factor sign-in (django-otp, TOTP): the issuer name the authenticator app shows.
OTP_TOTP_ISSUER = "Backoffice"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dagsoppgjor/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Norwegian bokmål first; English as the second language (msgids are bokmål, the
# English catalogue lives in each app's locale/en/).
LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norsk bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "backoffice" / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Oslo"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# In development whitenoise serves straight from the app folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG

# Sessions and cookies: safe defaults, hardened when DEBUG is off. A sign-in ends after 2
# hours without a request (the cookie's age, renewed on every request) and after 12 hours
# in any case (backoffice.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = envint("SESSION_IDLE_SECONDS", 2 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = envint("SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    # No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from anyone who
    # reaches the app. gunicorn believes it only from FORWARDED_ALLOW_IPS (the proxy) and
    # then tells Django the request came over HTTPS (wsgi.url_scheme).
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# The tills' API (issue 17): requests per second per key and per client address, far above
# what a busy chain sends (429 with Retry-After beyond); lines per settlement; new
# registers and new product-group or method names a store may add per day.
API_RATE_PER_KEY = envint("API_RATE_PER_KEY", 10)
# The window those limits count in (seconds). One second in production; the tests widen
# it so that a slow machine's requests do not slide out of the window while counted.
API_RATE_WINDOW_SECONDS = 1.0
API_RATE_PER_ADDRESS = envint("API_RATE_PER_ADDRESS", 30)
SETTLEMENT_MAX_SALES = 500
SETTLEMENT_MAX_PAYMENTS = 100
SETTLEMENT_NEW_REGISTERS_PER_DAY = envint("SETTLEMENT_NEW_REGISTERS_PER_DAY", 50)
SETTLEMENT_NEW_NAMES_PER_DAY = envint("SETTLEMENT_NEW_NAMES_PER_DAY", 200)
# Addresses or networks of the proxy in front of the app: only from these is
# X-Forwarded-For believed (the client's address for the throttles and the sign-in
# lock-out). Default: what gunicorn trusts for X-Forwarded-Proto (FORWARDED_ALLOW_IPS).
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES", os.getenv("FORWARDED_ALLOW_IPS", ""))

# A body larger than this is refused before it is parsed (../shared/DESIGN.md 4.1: 413 over 1 MiB).
SETTLEMENT_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# SAF-T Cash Register files (DESIGN.md 4.6): Skatteetaten's XSD is read from here (never
# copied into the repository; ../shared/saft/ beside the checkout by default), and uploads
# are written to SAFT_UPLOAD_DIR until the worker has read them.
SAFT_XSD_PATH = Path(
    os.getenv(
        "SAFT_XSD_PATH",
        BASE_DIR.parent / "shared" / "saft" / "Norwegian_SAF-T_Cash_Register_Schema_v_1.00.xsd",
    )
)
SAFT_UPLOAD_DIR = Path(os.getenv("SAFT_UPLOAD_DIR", VAR_DIR / "saft-uploads"))
SAFT_MAX_UPLOAD_BYTES = envint("SAFT_MAX_UPLOAD_BYTES", 1024 * 1024 * 1024)
# Uploaded files (only SAF-T files so far) stream to a temporary file, never into memory.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]

EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "backoffice@localhost")
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "0")
SITE_URL = os.getenv("SITE_URL", "http://localhost:8000")

# Celery: Redis when REDIS_URL is set, else kombu's filesystem broker (no server needed).
REDIS_URL = os.getenv("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    _celery_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "results"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        # Else kombu keeps its exchange tables in ./control of whatever the cwd is.
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{_celery_dir / 'results'}"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", "0")
TRANSFER_TICK_SECONDS = envint("TRANSFER_TICK_SECONDS", 300)
# A claim ("overføres") older than this belongs to a worker that died mid-POST.
TRANSFER_STALE_CLAIM_SECONDS = envint("TRANSFER_STALE_CLAIM_SECONDS", 600)
# A run queued this long and never started lost its task: the next tick sends it again.
TRANSFER_REQUEUE_SECONDS = envint("TRANSFER_REQUEUE_SECONDS", 1800)
# One static entry: the dispatcher decides which organisations are due (their own schedule).
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-transfers": {
        "task": "integrations.visma.tasks.dispatch_due_transfers",
        "schedule": TRANSFER_TICK_SECONDS,
    }
}

# Visma eAccounting (../shared/DESIGN.md 3 and 4.3).
VISMA_CLIENT_ID = os.getenv("VISMA_CLIENT_ID", "")
VISMA_CLIENT_SECRET = os.getenv("VISMA_CLIENT_SECRET", "")
VISMA_REDIRECT_URI = os.getenv("VISMA_REDIRECT_URI", "")
VISMA_IDENTITY_URL = os.getenv("VISMA_IDENTITY_URL", "https://identity.vismaonline.com").rstrip("/")
VISMA_API_URL = os.getenv("VISMA_API_URL", "https://eaccountingapi.vismaonline.com/v2").rstrip("/")
VISMA_RATE_LIMIT_PER_MINUTE = envint("VISMA_RATE_LIMIT_PER_MINUTE", 600)
VISMA_TIMEOUT_SECONDS = envint("VISMA_TIMEOUT_SECONDS", 30)

# Content-Security-Policy (django-csp): scripts, styles and images from this site only, no
# inline script or style. Forms may also go to Visma's sign-in (Connect redirects there).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", VISMA_IDENTITY_URL],
    }
}

# Operators see errors in the log; secrets never go there (tokens are not logged anywhere).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Functions (organization) -> list of {"level", "text", "url"} shown on every page.
BACKOFFICE_BANNER_PROVIDERS = ["integrations.visma.banners.banners"]

# Dotted path to a function (organization) -> accounting.catalog.Catalog | None.
ACCOUNTING_CATALOG_PROVIDER = os.getenv(
    "ACCOUNTING_CATALOG_PROVIDER", "integrations.visma.catalog.company_catalog"
)
# What the settlement pages show of a settlement's transfer (settlements.transfer).
SETTLEMENT_TRANSFER_PROVIDER = os.getenv(
    "SETTLEMENT_TRANSFER_PROVIDER", "integrations.visma.pages.transfers"
)
