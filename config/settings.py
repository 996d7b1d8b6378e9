"""Django settings for Clarion, read from the environment.

With no environment set, Clarion runs on the embedded default: SQLite under
``var/``, Channels' in-memory layer, Celery tasks executed eagerly in-process,
and e-mail written to ``var/outbox`` and the console. Setting ``DATABASE_URL``
and ``REDIS_URL`` switches to the production shape (PostgreSQL, Redis as
broker, channel layer and cache, separate Celery workers and beat).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.email import email_settings
from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CLARION_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
# The embedded default needs no configuration, so it gets a development key;
# any deployment that sets DATABASE_URL must set its own SECRET_KEY.
_EMBEDDED = env_str("DATABASE_URL", "") == ""
CLARION_EMBEDDED = _EMBEDDED  # shown on the landing page
SECRET_KEY = env_str("SECRET_KEY", "embedded-development-key-not-for-production" if _EMBEDDED else None)
if not _EMBEDDED and len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.admin.ClarionAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "anymail",
    "channels",
    "corsheaders",
    "notifications",
    "inbox",
    "webhooks",
    "push",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.request_guard.refuse_nul_in_url",
    "config.request_guard.refuse_chunked_body",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
if _EMBEDDED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "clarion.sqlite3",
            # WAL lets the web process and beat read while the other writes.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20},
        }
    }
else:
    # Under ASGI each request runs on a thread of its own, so a persistent per-thread
    # connection means a new connection for every request (and one more left open per
    # thread): the web process (config/asgi.py turns DATABASE_POOL on) borrows from a pool
    # instead. Workers, one task at a time per process, keep one connection each.
    _DATABASE_POOL = env_bool("DATABASE_POOL", False)
    DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL"),
                                                  conn_max_age=0 if _DATABASE_POOL else 60)}
    if _DATABASE_POOL:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1, "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=1),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, channel layer, cache ---------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Live delivery (channel layer) --------------------------------------------------
# Production: Redis pub/sub, with connection settings that keep idle subscribers open
# (inbox/live/redis_layer.py says why). Embedded default: a SQLite file shared by every
# process of this installation (web, beat, manage.py), so a notification created anywhere
# reaches open pages without a server to install (inbox/live/feed_layer.py).
if REDIS_URL:
    from inbox.live.redis_layer import redis_layer_hosts

    CHANNEL_LAYERS = {"default": {"BACKEND": "inbox.live.redis_layer.RedisPubSubBatchLayer",
                                  "CONFIG": {"hosts": redis_layer_hosts(REDIS_URL),
                                             "prefix": env_str("LIVE_CHANNEL_PREFIX", "clarion")}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "inbox.live.feed_layer.SqliteFeedChannelLayer",
                                  "CONFIG": {"path": env_str("LIVE_FEED_PATH",
                                                             str(VAR_DIR / "live.sqlite3"))}}}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged only after it finished, so a killed worker's task is
# redelivered; prefetching one at a time keeps that redelivery small.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Survives kombu's failure to close a lost Redis connection (config/celery_consumer.py).
CELERY_WORKER_CONSUMER = "config.celery_consumer:BrokerLossTolerantConsumer"
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# A task taken by a worker that then died (kill -9, lost host) goes back to
# the front of its queue after this long. Every task is short (a send batch
# renews its lease, a fan-out task does one chunk), and one handed out twice
# finds its deliveries claimed already, so this can be short.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("BROKER_VISIBILITY_TIMEOUT", 60, minimum=10),
    # A worker serving several lanes always takes from the first non-empty one, in the
    # order of CELERY_TASK_QUEUES: a password reset never waits behind a newsletter.
    "queue_order_strategy": "priority"}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Lanes (see notifications/handoff.py): "<queue>" for events and small sends,
# "<queue>.broadcast" for large audiences, "<queue>.housekeeping" for sweeps.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_TASK_QUEUES = [Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(f"{CELERY_TASK_DEFAULT_QUEUE}.housekeeping"),
                      Queue(f"{CELERY_TASK_DEFAULT_QUEUE}.broadcast")]
CELERY_TASK_ROUTES = {name: {"queue": f"{CELERY_TASK_DEFAULT_QUEUE}.housekeeping"} for name in (
    "notifications.dispatch_due_deliveries", "notifications.recover_stuck_work",
    "notifications.dispatch_scheduled_events", "notifications.flush_digests")}

# --- E-mail -------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clarion <clarion@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
globals().update(email_settings(default_url="outbox://" if _EMBEDDED else "console://"))
EMAIL_OUTBOX_DIR = VAR_DIR / "outbox"

# --- Auth, i18n, static ---------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the finders when collectstatic has not run (tests, dev).
WHITENOISE_USE_FINDERS = True

# --- Security (production) --------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool(
    "TRUST_X_FORWARDED_PROTO", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not _EMBEDDED)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", not _EMBEDDED)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if _EMBEDDED else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- REST API -------------------------------------------------------------------
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 256 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# Objects and arrays in a JSON body may nest this deep (event data included); deeper is a 400.
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32, minimum=2)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["notifications.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["notifications.api.permissions.HasScope"],
    "DEFAULT_PARSER_CLASSES": ["notifications.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "notifications.api.pagination.StandardPagination",
    "DEFAULT_FILTER_BACKENDS": ["notifications.api.filters.StrictFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "notifications.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {"inbox-write": env_str("INBOX_THROTTLE_RATE", "120/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clarion API",
    "DESCRIPTION": "Trigger events, manage subscribers and groups, and follow deliveries.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page lists the tags in this order: what an integrator does first comes first.
    "TAGS": [
        {"name": "events", "description": "Trigger events and follow what became of them."},
        {"name": "deliveries", "description": "Every message sent or tried, with its outcome."},
        {"name": "subscribers", "description": "The people of your Application's directory."},
        {"name": "groups", "description": "Named audiences such as #admins."},
        {"name": "categories", "description": "What notifications are about (preferences)."},
        {"name": "devices", "description": "A subscriber's phones and browsers for push "
                                           "notifications."},
        {"name": "webhooks", "description": "Signed webhooks to your endpoints."},
        {"name": "notifications", "description": "The end user's inbox (an inbox token)."},
        {"name": "push", "description": "Push-server-compatible API: messages to a user's "
                                        "live sessions."},
        {"name": "status", "description": "Probes of the push-compatible API."},
    ],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "notifications.api.schema_hooks.canonical_paths",
        "notifications.api.schema_hooks.error_responses",
        "notifications.api.schema_hooks.bodies_required",
        "notifications.api.schema_hooks.strict_bodies_closed",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DeliveryStatusEnum": "notifications.models.choices.DeliveryStatus",
        "EventStatusEnum": "notifications.models.choices.EventStatus",
    },
}

# --- Clarion ------------------------------------------------------------------------
# Outbound HTTP to configured URLs: private ranges are refused unless listed here.
OUTBOUND_ALLOWED_NETWORKS = env_list("OUTBOUND_ALLOWED_NETWORKS", [])
OUTBOUND_CONNECT_TIMEOUT = env_int("OUTBOUND_CONNECT_TIMEOUT", 5, minimum=1)
OUTBOUND_TOTAL_TIMEOUT = env_int("OUTBOUND_TOTAL_TIMEOUT", 15, minimum=1)
# How long a worker may hold a delivery in ``sending`` without renewing its
# lease before the sweeper assumes it died and queues the delivery again; a
# live worker renews every third of this while its batch is in progress.
DELIVERY_LEASE_SECONDS = env_int("DELIVERY_LEASE_SECONDS", 30, minimum=1)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 8, minimum=1)
DELIVERY_RETRY_BASE_SECONDS = env_int("DELIVERY_RETRY_BASE_SECONDS", 10, minimum=0)
DELIVERY_RETRY_MAX_SECONDS = env_int("DELIVERY_RETRY_MAX_SECONDS", 6 * 3600, minimum=1)
DELIVERY_BATCH_SIZE = env_int("DELIVERY_BATCH_SIZE", 100, minimum=1)
# Channels whose batch is cheap per message take more per task (in-app is one
# INSERT per batch); DELIVERY_BATCH_SIZE, when set, caps them all.
DELIVERY_BATCH_SIZES = {"inapp": min(1000, env_int("DELIVERY_BATCH_SIZE", 1000, minimum=1))}
# An event whose audience is larger than this is a broadcast: its fan-out and
# sends travel in the broadcast lane, and the audience is written in chunks.
DELIVERY_BROADCAST_THRESHOLD = env_int("DELIVERY_BROADCAST_THRESHOLD", 100, minimum=1)
FANOUT_CHUNK_SIZE = env_int("FANOUT_CHUNK_SIZE", 5000, minimum=1)
# Off: every delivery row is built in Python (the reference the set-based path is tested against).
FANOUT_SET_BASED = env_bool("FANOUT_SET_BASED", True)
# An HTTP channel's batch has this many requests in flight at once, never more than
# OUTBOUND_PER_HOST_CONCURRENCY of them to one host (1: one request after another).
OUTBOUND_BATCH_CONCURRENCY = env_int("OUTBOUND_BATCH_CONCURRENCY", 16, minimum=1)
OUTBOUND_PER_HOST_CONCURRENCY = env_int("OUTBOUND_PER_HOST_CONCURRENCY", 8, minimum=1)
# A queued delivery handed to the broker this long ago and still untouched is
# assumed lost with the broker's data (a Redis restart without persistence).
DELIVERY_HANDOFF_LOST_SECONDS = env_int("DELIVERY_HANDOFF_LOST_SECONDS", 900, minimum=1)
# A hand-off whose publish is not confirmed this long after its commit is taken to have died
# with its process (publishing a batch takes milliseconds), and is handed over again.
DELIVERY_HANDOFF_GRACE_SECONDS = env_int("DELIVERY_HANDOFF_GRACE_SECONDS", 20, minimum=1)
# Likewise for a live push of inbox rows (``PendingPush``): unconfirmed this long, pushed again.
LIVE_PUSH_GRACE_SECONDS = env_int("LIVE_PUSH_GRACE_SECONDS", 20, minimum=1)
# An event left ``processing`` this long by its fan-out (a killed worker) is taken over
# and fanned out again (nothing is written twice); every fan-out task renews it as it starts.
EVENT_PROCESSING_LEASE_SECONDS = env_int("EVENT_PROCESSING_LEASE_SECONDS", 45, minimum=1)
# Events still ``received`` this long after they were accepted are queued again.
EVENT_STUCK_SECONDS = env_int("EVENT_STUCK_SECONDS", 60, minimum=1)
EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN", "clarion.localhost")
CLARION_LIST_UNSUBSCRIBE_MAILTO = env_str("CLARION_LIST_UNSUBSCRIBE_MAILTO", "")

# Keys for secrets stored in the database (webhook secrets, chat tokens): the
# first encrypts, all decrypt. Empty: derived from SECRET_KEY (see notifications/fields.py).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])

# --- Inbox (in-app notifications, live push, preferences) -----------------------------
INBOX_TOKEN_TTL_SECONDS = env_int("INBOX_TOKEN_TTL_SECONDS", 24 * 3600, minimum=60)
# Pages on other origins (the integrator's product) allowed to open inbox WebSockets
# and streams, e.g. "https://app.example.com"; the platform's own hosts are always allowed.
INBOX_ALLOWED_ORIGINS = env_list("INBOX_ALLOWED_ORIGINS", [])
# How long a long-poll request waits for something to happen, and how often an SSE
# stream sends a keep-alive comment so proxies do not cut it.
# The inbox endpoints answer cross-origin requests from those pages (and nothing else does).
CORS_ALLOWED_ORIGINS = INBOX_ALLOWED_ORIGINS
CORS_URLS_REGEX = r"^/api/notifications(/.*)?$"
INBOX_LONG_POLL_SECONDS = env_int("INBOX_LONG_POLL_SECONDS", 25, minimum=1)
INBOX_SSE_KEEPALIVE_SECONDS = env_int("INBOX_SSE_KEEPALIVE_SECONDS", 15, minimum=1)
# Socket.IO's own heartbeat (Engine.IO ping): a client that misses a ping for
# interval + timeout seconds is disconnected and its push registration dropped.
SOCKETIO_PING_INTERVAL_SECONDS = env_int("SOCKETIO_PING_INTERVAL_SECONDS", 25, minimum=1)
SOCKETIO_PING_TIMEOUT_SECONDS = env_int("SOCKETIO_PING_TIMEOUT_SECONDS", 20, minimum=1)
# A push-API socket that closed may present its (userId, connectionId) again this long
# (Socket.IO reconnects by itself after a network blip); after that the pair is refused.
PUSH_RECONNECT_GRACE_SECONDS = env_int("PUSH_RECONNECT_GRACE_SECONDS", 120, minimum=0)

# --- Outgoing webhooks ------------------------------------------------------------------
# Refuse plain-HTTP endpoint URLs (on create and on every send); on by default in production.
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", not _EMBEDDED)
# An event whose payload ({"type", "timestamp", "data"} as compact JSON) is larger fails
# with a clear error instead of being sent.
WEBHOOK_MAX_PAYLOAD_BYTES = env_int("WEBHOOK_MAX_PAYLOAD_BYTES", 256 * 1024, minimum=1024)
# How much of each response body is read and kept in the attempt log.
WEBHOOK_RESPONSE_EXCERPT_BYTES = env_int("WEBHOOK_RESPONSE_EXCERPT_BYTES", 4096, minimum=0)
# Seconds before each retry (±20% jitter): a message gets one attempt plus one per entry.
try:
    WEBHOOK_RETRY_SCHEDULE = [int(s) for s in env_list(
        "WEBHOOK_RETRY_SCHEDULE", ["5", "300", "1800", "7200", "18000", "36000", "50400", "72000",
                                   "86400"])]
except ValueError:
    raise ImproperlyConfigured("WEBHOOK_RETRY_SCHEDULE must be comma-separated whole seconds.") from None
# The longest wait a receiver's Retry-After header can impose on one retry.
WEBHOOK_RETRY_AFTER_MAX_SECONDS = env_int("WEBHOOK_RETRY_AFTER_MAX_SECONDS", 86400, minimum=1)
# An endpoint whose automatic deliveries failed without a success for this long is
# disabled and its Application's contact told.
WEBHOOK_DISABLE_AFTER_SECONDS = env_int("WEBHOOK_DISABLE_AFTER_SECONDS", 5 * 86400, minimum=60)
# How long the previous secret keeps signing after a regeneration, unless the call says
# otherwise (0 to 7 days).
WEBHOOK_SECRET_GRACE_SECONDS = env_int("WEBHOOK_SECRET_GRACE_SECONDS", 86400, minimum=0)
if WEBHOOK_SECRET_GRACE_SECONDS > 7 * 86400:
    raise ImproperlyConfigured("WEBHOOK_SECRET_GRACE_SECONDS must be at most 604800 (7 days).")
if not WEBHOOK_RETRY_SCHEDULE or min(WEBHOOK_RETRY_SCHEDULE) < 0:
    raise ImproperlyConfigured("WEBHOOK_RETRY_SCHEDULE must list at least one delay of 0 or more "
                               "seconds.")

# --- Chat and SMS providers, URL-only relay ------------------------------------------
# Server-level credentials come from the environment; targets (rooms, channels, webhook
# URLs) are set on groups and subscribers in the admin. A channel whose credentials are
# missing reports "skipped: not configured" on each delivery. Secrets accept NAME_FILE.
def _base_url(name: str) -> str:
    value = env_str(name, "").strip().rstrip("/")
    if value and not value.lower().startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{name} must start with http:// or https:// (got {value!r}).")
    return value


# How Twilio (status callbacks) and other services reach this server, e.g.
# https://clarion.example.com — without it SMS are sent with no StatusCallback.
PUBLIC_BASE_URL = _base_url("PUBLIC_BASE_URL")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
# The sender: a number (E.164) or alphanumeric id, or a Messaging Service (which wins).
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID", "")
# Only to point the SDK at a stand-in of api.twilio.com (tests, staging).
TWILIO_API_BASE_URL = _base_url("TWILIO_API_BASE_URL")
MATRIX_HOMESERVER = _base_url("MATRIX_HOMESERVER")
MATRIX_ACCESS_TOKEN = env_str("MATRIX_ACCESS_TOKEN", "")
# Join a room (or accept its invitation) when the first post is refused for not being in it.
MATRIX_AUTO_JOIN = env_bool("MATRIX_AUTO_JOIN", True)
MATRIX_MSGTYPE = env_str("MATRIX_MSGTYPE", "m.notice")
if MATRIX_MSGTYPE not in ("m.notice", "m.text"):
    raise ImproperlyConfigured("MATRIX_MSGTYPE must be m.notice (automated alerts) or m.text.")
# Resolved room aliases are cached this long (0 resolves on every send).
MATRIX_ALIAS_CACHE_SECONDS = env_int("MATRIX_ALIAS_CACHE_SECONDS", 3600, minimum=0)
MATTERMOST_URL = _base_url("MATTERMOST_URL")
MATTERMOST_BOT_TOKEN = env_str("MATTERMOST_BOT_TOKEN", "")
# Push to phones and browsers (the push app; docs/push.md says how to get each credential).
# Web Push: a VAPID key pair's private half (base64url or PEM) and a contact for the push
# services (mailto: or https:); the public half is served to browsers.
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = env_str("VAPID_SUBJECT", "")
# A browser's endpoint must be https:// (as every real push service's is); off for tests.
WEBPUSH_REQUIRE_HTTPS = env_bool("WEBPUSH_REQUIRE_HTTPS", True)
# Firebase Cloud Messaging (HTTP v1): the service account's JSON key file.
FCM_SERVICE_ACCOUNT_FILE = env_str("FCM_SERVICE_ACCOUNT_FILE", "")
FCM_BASE_URL = _base_url("FCM_BASE_URL") or "https://fcm.googleapis.com"
# Apple: a token-based (.p8) key, its id, the team and the default topic (bundle id).
APNS_KEY_FILE = env_str("APNS_KEY_FILE", "")
APNS_KEY_ID = env_str("APNS_KEY_ID", "")
APNS_TEAM_ID = env_str("APNS_TEAM_ID", "")
APNS_TOPIC = env_str("APNS_TOPIC", "")
APNS_BASE_URL = _base_url("APNS_BASE_URL") or "https://api.push.apple.com"
APNS_SANDBOX_BASE_URL = _base_url("APNS_SANDBOX_BASE_URL") or "https://api.sandbox.push.apple.com"
# Expo: the access token is needed only when the Expo project requires one.
EXPO_ACCESS_TOKEN = env_str("EXPO_ACCESS_TOKEN", "")
EXPO_PUSH_URL = _base_url("EXPO_PUSH_URL") or "https://exp.host/--/api/v2/push/send"
# Expo is on unless switched off: it needs no credentials of its own.
EXPO_ENABLED = env_bool("EXPO_ENABLED", True)

# The URL-only relay: longest message accepted, and requests per API key (DRF rate syntax).
RELAY_MAX_MESSAGE_LENGTH = env_int("RELAY_MAX_MESSAGE_LENGTH", 4000, minimum=1)
RELAY_THROTTLE_RATE = env_str("RELAY_THROTTLE_RATE", "60/min")
_count, _, _period = RELAY_THROTTLE_RATE.partition("/")
if not (_count.isdigit() and _period in ("s", "sec", "second", "m", "min", "minute", "h",
                                         "hour", "d", "day")):
    raise ImproperlyConfigured("RELAY_THROTTLE_RATE must look like 60/min (per s, min, hour, day).")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
CSRF_FAILURE_VIEW = "config.request_guard.csrf_failure"
