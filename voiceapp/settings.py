"""VoiceApp settings: every value comes from the environment (or an optional .env file)."""

from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables win over the file.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Django core -----------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
    SECRET_KEY = "django-insecure-dev-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "core",
    "accounts",
    "conversations",
    "weather",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Axes must come last: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "voiceapp.urls"
WSGI_APPLICATION = "voiceapp.wsgi.application"

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
                "accounts.context_processors.signup",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several users at once on the default database (issue 16): readers never wait for the
    # writer (WAL); a write transaction takes the write lock when it begins (IMMEDIATE), so two
    # transactions that both read first cannot deadlock on the upgrade, which SQLite answers
    # with "database is locked" at once instead of waiting; and a writer waits its turn for up
    # to SQLITE_BUSY_TIMEOUT seconds.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=20.0),
        **DATABASES["default"].get("OPTIONS", {}),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The JIT compiles the searches' high-cost plans for ~150 ms that their execution never wins
    # back (docs/performance.md); short web queries never gain from it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://voiceapp")}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A frozen Redis must not hold requests (issue 16): short socket timeouts, and a breaker that
    # skips Redis for a few seconds after a failure (core/cache.py).
    _redis_timeout = env.float("CACHE_SOCKET_TIMEOUT", default=0.5)
    CACHES["default"]["OPTIONS"] = {
        "SOCKET_CONNECT_TIMEOUT": _redis_timeout,
        "SOCKET_TIMEOUT": _redis_timeout,
        "REDIS_CLIENT_CLASS": "core.cache.GuardedRedis",
        **CACHES["default"].get("OPTIONS", {}),
    }
# A Redis outage degrades caching instead of failing requests with a 500; core/cache.py logs one
# line per outage instead of a traceback per cache call.
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ---------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Prepared downloads of account data (privacy app): private, served by a view to their owner only.
    "exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("DATA_EXPORT_DIR", default=str(BASE_DIR / "var" / "exports"))},
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "core.storage.StaticStorage"
    },
}

# --- Background tasks (django-tasks) ------------------------------------------
# Without a queue a task runs on a thread of the web process (core.tasks.ThreadBackend). With
# TASKS_BACKEND=django_tasks_db.DatabaseBackend tasks wait in the database for `manage.py db_worker`.
TASKS = {"default": {"BACKEND": env.str("TASKS_BACKEND", default="core.tasks.ThreadBackend")}}
DATA_EXPORT_KEEP_DAYS = env.int("DATA_EXPORT_KEEP_DAYS", default=7)
# A background export with no progress for this long is taken as stopped (its process ended).
DATA_EXPORT_STALLED_SECONDS = 600

# --- Security ----------------------------------------------------------------
# Production runs behind a TLS-terminating proxy; a plain-HTTP local run sets
# SECURE_SSL_REDIRECT=false and SESSION_COOKIE_SECURE=false (see README).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
PERMISSIONS_POLICY = "microphone=(self), camera=(), geolocation=(), payment=(), usb=()"

# --- Auth and accounts --------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "conversations:talk"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: Django tells validators of every password change (form, reset, admin, command).
    {"NAME": "accounts.validators.RevokeApiTokensOnPasswordChange"},
]
# Who may create an account: "open" (anyone), "invite" (with a code staff issue in the admin),
# "closed" (staff create accounts in the admin).
SIGNUP = env.str("SIGNUP", default="open")
if SIGNUP not in ("open", "invite", "closed"):
    raise ImproperlyConfigured(f"SIGNUP must be open, invite or closed, not {SIGNUP!r}.")
SIGNUP_RATE = env.str("SIGNUP_RATE", default="5/hour")  # accounts created per IP address
# New accounts confirm their e-mail address through a link before they can log in.
SIGNUP_VERIFY_EMAIL = env.bool("SIGNUP_VERIFY_EMAIL", default=False)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# For the SMTP backend (django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="VoiceApp <noreply@localhost>")

# Login brute-force protection (django-axes): lock a username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- REST API (DRF) -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that a request without credentials gets 401 + WWW-Authenticate.
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Exact under concurrency (atomic counters), and closed for paid scopes when the cache is down.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "weather": env.str("WEATHER_THROTTLE_RATE", default="60/min"),
        "turns": env.str("TURNS_THROTTLE_RATE", default="600/min"),
        "mint": env.str("MINT_THROTTLE_RATE", default="30/min"),
    },
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Rate-limit scopes that cost money (upstream calls, quota): refused while the cache cannot count.
RATE_LIMIT_FAIL_CLOSED = ["mint", "weather", "signup"]
# API tokens (django-rest-knox): stored as SHA-512 hashes, `Authorization: Token va_…`.
KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's migrations create its own token table even when the model is swapped for ours; an unused
# table whose foreign key stops PostgreSQL from truncating auth_user.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_TTL": None, "TOKEN_PREFIX": "va_", "AUTO_REFRESH": False}
SPECTACULAR_SETTINGS = {
    "TITLE": "VoiceApp API",
    "DESCRIPTION": "Conversation history, transcript export and the weather tool of VoiceApp.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from our own static files (no CDN: works offline and under our CSP).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Turns and conversations both have a "status" field with different choices.
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "conversations.models.Conversation.Status",
        "TurnStatusEnum": "conversations.models.Turn.Status",
    },
}

# --- Outbound HTTP (core/http.py) ---------------------------------------------
UPSTREAM_TIMEOUT = env.float("UPSTREAM_TIMEOUT", default=5.0)
UPSTREAM_CONNECT_TIMEOUT = env.float("UPSTREAM_CONNECT_TIMEOUT", default=3.0)
# Calls in flight to each upstream, per process; keep it below the worker's threads (core/upstream_slots.py).
UPSTREAM_MAX_CONCURRENT = env.int("UPSTREAM_MAX_CONCURRENT", default=4)

# --- Voice upstream: OpenAI Realtime or GPT-Live (docs/gpt-live.md) -------------
VOICE_API = env.str("VOICE_API", default="realtime")
if VOICE_API not in ("realtime", "live"):
    raise ImproperlyConfigured(f'VOICE_API must be "realtime" or "live", not {VOICE_API!r}.')

# --- OpenAI Realtime ------------------------------------------------------------
# GA interface only (/realtime/client_secrets, /realtime/calls); docs/realtime-api.md.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="https://api.openai.com/v1").rstrip("/")
# "openai" sends Authorization: Bearer; "azure" sends the api-key header (Azure OpenAI GA /openai/v1).
OPENAI_AUTH_STYLE = env.str(
    "OPENAI_AUTH_STYLE", default="azure" if ".openai.azure.com" in OPENAI_BASE_URL else "openai"
)
# gpt-realtime is being retired in favour of gpt-realtime-2.1 (README, "Choosing models").
REALTIME_MODEL = env.str("REALTIME_MODEL", default="gpt-realtime-2.1")
REALTIME_VOICE = env.str("REALTIME_VOICE", default="marin")
REALTIME_TRANSCRIPTION_MODEL = env.str("REALTIME_TRANSCRIPTION_MODEL", default="gpt-4o-mini-transcribe")
REALTIME_INSTRUCTIONS = env.str(
    "REALTIME_INSTRUCTIONS",
    default=(
        "You are a friendly, concise voice assistant. Keep answers short and conversational. "
        "When the user asks about the weather, call get_weather for each place they mention."
    ),
)
REALTIME_TOKEN_TTL = env.int("REALTIME_TOKEN_TTL", default=60)
# The upstream accepts expires_after.seconds of 10-7200 only (docs/realtime-api.md, "Client secrets");
# refusing here beats every mint failing later.
if not 10 <= REALTIME_TOKEN_TTL <= 7200:
    raise ImproperlyConfigured(
        f"REALTIME_TOKEN_TTL must be between 10 and 7200 seconds (it is {REALTIME_TOKEN_TTL})."
    )
REALTIME_SESSIONS_PER_DAY = env.int("REALTIME_SESSIONS_PER_DAY", default=100)
# Site-wide: once today's estimated cost (usage ledger x price table) reaches it, no new voice
# sessions start until tomorrow; 0 = no budget.
DAILY_BUDGET_USD = Decimal(env.str("DAILY_BUDGET_USD", default="0"))
REALTIME_SESSION_LIMIT_SECONDS = env.int("REALTIME_SESSION_LIMIT_SECONDS", default=3600)


def _prices(text_in, text_cached, text_out, audio_in, audio_cached, audio_out) -> dict:
    return {
        "text_in": text_in,
        "text_cached": text_cached,
        "text_out": text_out,
        "audio_in": audio_in,
        "audio_cached": audio_cached,
        "audio_out": audio_out,
    }


# USD per 1M tokens of every token-billed model: the Realtime models and GPT-Live's backend
# (Responses) model (docs/realtime-api.md, docs/gpt-live.md). Override with REALTIME_PRICES as JSON.
REALTIME_PRICES = env.json(
    "REALTIME_PRICES",
    default={
        "gpt-realtime": _prices(4.0, 0.4, 16.0, 32.0, 0.4, 64.0),
        "gpt-realtime-1.5": _prices(4.0, 0.4, 16.0, 32.0, 0.4, 64.0),
        "gpt-realtime-2": _prices(4.0, 0.4, 24.0, 32.0, 0.4, 64.0),
        "gpt-realtime-2.1": _prices(4.0, 0.4, 24.0, 32.0, 0.4, 64.0),
        "gpt-realtime-2.1-mini": _prices(0.6, 0.06, 2.4, 10.0, 0.3, 20.0),
        "gpt-realtime-mini": _prices(0.6, 0.06, 2.4, 10.0, 0.3, 20.0),
        "gpt-5.6-luna": _prices(0.2, 0.02, 1.2, 0, 0, 0),
    },
)

# --- GPT-Live (VOICE_API=live) -------------------------------------------------------
# No ephemeral keys: Django relays the browser's SDP offer to /live/sessions with the server key.
LIVE_MODEL = env.str("LIVE_MODEL", default="gpt-live-1")
LIVE_VOICE = env.str("LIVE_VOICE", default="marin")
LIVE_INSTRUCTIONS = env.str(
    "LIVE_INSTRUCTIONS",
    default=(
        "You are a friendly, concise voice assistant. Keep answers short and conversational. "
        "For any weather question, delegate to the backend and wait for its result; never guess the weather."
    ),
)
# The Responses model GPT-Live delegates to; it calls get_weather (run by the browser).
LIVE_BACKEND_MODEL = env.str("LIVE_BACKEND_MODEL", default="gpt-5.6-luna")
LIVE_BACKEND_INSTRUCTIONS = env.str(
    "LIVE_BACKEND_INSTRUCTIONS",
    default=(
        "You support a live voice assistant. For a weather question, call get_weather once for each "
        "place the user named, then answer in one or two short factual sentences. "
        "If the place is unclear, say what is missing."
    ),
)
# USD per minute of session, billed per second: active, and standby (inference paused).
LIVE_PRICES = env.json(
    "LIVE_PRICES",
    default={
        "gpt-live-1": {"active_per_minute": 0.05, "standby_per_minute": 0.05},
        "gpt-live-1.1": {"active_per_minute": 0.05, "standby_per_minute": 0.02},
    },
)

# --- Weather (Open-Meteo) -------------------------------------------------------
OPEN_METEO_GEOCODING_URL = env.str(
    "OPEN_METEO_GEOCODING_URL", default="https://geocoding-api.open-meteo.com/v1/search"
)
OPEN_METEO_FORECAST_URL = env.str("OPEN_METEO_FORECAST_URL", default="https://api.open-meteo.com/v1/forecast")

# --- Conversations ----------------------------------------------------------------
CONVERSATION_RETENTION_DAYS = env.int("CONVERSATION_RETENTION_DAYS", default=0)  # 0 = keep forever
TURN_TEXT_MAX_LENGTH = env.int("TURN_TEXT_MAX_LENGTH", default=20_000)
TURN_BATCH_MAX = env.int("TURN_BATCH_MAX", default=200)

# --- Content Security Policy (django-csp) -----------------------------------------
# Realtime: the page posts its SDP offer to OpenAI itself. GPT-Live: Django relays it, so the page
# talks to nobody but us.
_upstream_origins = (
    ["{0.scheme}://{0.netloc}".format(urlsplit(OPENAI_BASE_URL))] if VOICE_API == "realtime" else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF, *_upstream_origins],
        "media-src": [SELF, "blob:", "mediastream:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Logging ------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "oneline": {
            "()": "core.log.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "oneline", "stream": "ext://sys.stdout"}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # One line per failed request; Django's default would add a traceback to 4xx noise.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "axes": {"level": "WARNING"},
        # core/http.py logs upstream failures itself; httpx would log every request.
        "httpx": {"level": "WARNING"},
    },
}
