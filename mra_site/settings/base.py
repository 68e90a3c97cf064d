"""Settings shared by every environment, read from environment variables.

Every value has a default that serves the local two-region stack; production
differs only through the environment (see .env.example and deploy/).
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from mra_site.checks import DEVELOPMENT_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()


def _region_map(name: str, default: str) -> dict[str, str]:
    """Parse `region=value,region=value`; an empty value is kept as ''."""
    raw = env.str(name, default=default)
    result: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        region, sep, value = part.partition("=")
        if not sep or not region.strip():
            raise ImproperlyConfigured(f"{name}: expected region=value pairs, got {part!r}")
        result[region.strip()] = value.strip()
    return result


# Public (it is in the repository): production.py and `check --deploy` refuse it.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The Secrets Manager secret holding SECRET_KEY on AWS (name or ARN, read from
# the region's own replica by production.py); DJANGO_SECRET_KEY wins when set.
MRA_SECRET_KEY_SECRET_ID = env.str("MRA_SECRET_KEY_SECRET_ID", default="")

# --- regions -------------------------------------------------------------
MRA_APP_ID = env.str("MRA_APP_ID", default="mra")
MRA_PRIMARY_REGION = env.str("MRA_PRIMARY_REGION", default="us-east-1")
MRA_SECONDARY_REGION = env.str("MRA_SECONDARY_REGION", default="us-west-2")
MRA_REGION = env.str("MRA_REGION", default=MRA_PRIMARY_REGION)
MRA_REGION_URLS = _region_map(
    "MRA_REGION_URLS",
    f"{MRA_PRIMARY_REGION}=http://127.0.0.1:8001,{MRA_SECONDARY_REGION}=http://127.0.0.1:8002",
)
# An empty endpoint means real AWS with the default credential chain.
MRA_AWS_ENDPOINTS = _region_map(
    "MRA_AWS_ENDPOINTS",
    f"{MRA_PRIMARY_REGION}=http://127.0.0.1:4566,{MRA_SECONDARY_REGION}=http://127.0.0.1:4567",
)
if MRA_REGION not in (MRA_PRIMARY_REGION, MRA_SECONDARY_REGION):
    raise ImproperlyConfigured(
        f"MRA_REGION={MRA_REGION!r} is neither MRA_PRIMARY_REGION nor MRA_SECONDARY_REGION"
    )

# --- AWS resources ---------------------------------------------------------
MRA_TABLE_PREFIX = env.str("MRA_TABLE_PREFIX", default="mra-")
# `{region}` is replaced by the region: bucket names are global on AWS.
MRA_MEDIA_BUCKET = env.str("MRA_MEDIA_BUCKET", default="mra-media-{region}")
MRA_COGNITO_POOL_NAME = env.str("MRA_COGNITO_POOL_NAME", default="mra-users")
MRA_COGNITO_CLIENT_NAME = env.str("MRA_COGNITO_CLIENT_NAME", default="mra-web")
# Optional `region=pool_id` and `region=client_id`; looked up by name when empty.
MRA_COGNITO_POOL_IDS = _region_map("MRA_COGNITO_POOL_IDS", "")
MRA_COGNITO_CLIENT_IDS = _region_map("MRA_COGNITO_CLIENT_IDS", "")
# Optional `region=url`: where each pool's JWKS is served. By default the
# emulator's endpoint locally, Cognito's public URL on AWS.
MRA_COGNITO_JWKS_URLS = _region_map("MRA_COGNITO_JWKS_URLS", "")
MRA_COGNITO_JWKS_TTL = env.int("MRA_COGNITO_JWKS_TTL", default=3600)
# A token naming a key not in a pool's JWKS fetches it again at most this often.
MRA_COGNITO_JWKS_REFETCH_SECONDS = env.int("MRA_COGNITO_JWKS_REFETCH_SECONDS", default=60)
# How far in the future a token's `iat` may lie (clocks differ a little).
MRA_COGNITO_CLOCK_SKEW_SECONDS = env.int("MRA_COGNITO_CLOCK_SKEW_SECONDS", default=60)
# The oldest access token (by its `iat`) the site accepts; older ones are
# refreshed. 15 minutes, as the pool client issues them on AWS; the emulator
# issues hour-long tokens, so the site enforces it.
MRA_ACCESS_TOKEN_MAX_AGE_SECONDS = env.int("MRA_ACCESS_TOKEN_MAX_AGE_SECONDS", default=900)
if MRA_ACCESS_TOKEN_MAX_AGE_SECONDS < 1:
    raise ImproperlyConfigured("MRA_ACCESS_TOKEN_MAX_AGE_SECONDS must be at least 1 second")
MRA_OPERATORS_GROUP = env.str("MRA_OPERATORS_GROUP", default="operators")
# Sign-up also creates the user in the other region's pool, so that a user can
# sign in there once the first region is gone.
MRA_COGNITO_PROVISION_PEER = env.bool("MRA_COGNITO_PROVISION_PEER", default=True)
# Sign-up confirms the user at once instead of e-mailing a code (Cognito's
# AutoVerifiedAttributes): for local stacks only (dev.py), never on AWS.
MRA_COGNITO_AUTO_CONFIRM = env.bool("MRA_COGNITO_AUTO_CONFIRM", default=False)

# Sign-in and token requests: failed attempts allowed per window, per username
# and per client address, before the next attempts answer 429 until the window
# ends. Counted in the serving region's throttle table.
MRA_THROTTLE_WINDOW_SECONDS = env.int("MRA_THROTTLE_WINDOW_SECONDS", default=60)
MRA_THROTTLE_USERNAME_FAILURES = env.int("MRA_THROTTLE_USERNAME_FAILURES", default=5)
MRA_THROTTLE_ADDRESS_FAILURES = env.int("MRA_THROTTLE_ADDRESS_FAILURES", default=20)
for _name in (
    "MRA_THROTTLE_WINDOW_SECONDS",
    "MRA_THROTTLE_USERNAME_FAILURES",
    "MRA_THROTTLE_ADDRESS_FAILURES",
):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1")
# Proxies in front of the site that append the caller's address to
# X-Forwarded-For (mra_site/clientaddr.py): 1 locally (the front door), 2 on AWS
# (CloudFront, then API Gateway), 0 when clients connect to the site directly.
MRA_TRUSTED_PROXY_HOPS = env.int("MRA_TRUSTED_PROXY_HOPS", default=1)
if MRA_TRUSTED_PROXY_HOPS < 0:
    raise ImproperlyConfigured("MRA_TRUSTED_PROXY_HOPS must be 0 or more")

# How long a region may answer writes from a cached state read; the
# transaction's condition check on the state item is the real guard.
MRA_STATE_CACHE_SECONDS = env.float("MRA_STATE_CACHE_SECONDS", default=1.0)
if not 0 <= MRA_STATE_CACHE_SECONDS <= 1:
    # The front door polls /writablez, which reads this cache: older would
    # delay moving writes after a transition.
    raise ImproperlyConfigured("MRA_STATE_CACHE_SECONDS must be between 0 and 1 second")
# /readyz answers from a per-process cache this old at most, so that a flood
# of probes cannot turn into AWS throttling and flip the front door's routing.
MRA_READYZ_CACHE_SECONDS = env.float("MRA_READYZ_CACHE_SECONDS", default=3.0)
# The address users get: the local front door (HAProxy), CloudFront on AWS.
MRA_DOOR_URL = env.str("MRA_DOOR_URL", default="http://127.0.0.1:8000")
# The lag canary's heartbeat period, and how long after a fence a region must
# wait (with a post-fence heartbeat visible) before it counts as drained; unset,
# a second on AWS and none for an emulated region (replication.drain).
MRA_CANARY_INTERVAL_SECONDS = env.float("MRA_CANARY_INTERVAL_SECONDS", default=1.0)
MRA_DRAIN_SETTLE_SECONDS = env.float("MRA_DRAIN_SETTLE_SECONDS", default=None)
# How long the operator console waits for a region's /readyz: its probes run
# together, and one that has not answered by then is shown as not answering.
MRA_HEALTH_TIMEOUT_SECONDS = env.float("MRA_HEALTH_TIMEOUT_SECONDS", default=1.5)

MRA_AWS_CONNECT_TIMEOUT = env.float("MRA_AWS_CONNECT_TIMEOUT", default=1.5)
MRA_AWS_READ_TIMEOUT = env.float("MRA_AWS_READ_TIMEOUT", default=2.5)
MRA_AWS_MAX_ATTEMPTS = env.int("MRA_AWS_MAX_ATTEMPTS", default=2)
# After a region did not answer, its calls fail at once for this long.
MRA_AWS_REGION_COOLDOWN = env.float("MRA_AWS_REGION_COOLDOWN", default=3.0)
# A file (or directory) where every AWS call this process makes is recorded,
# to check them against the site role's policy; empty: off. Only the local
# stack's settings (dev.py) read it from the environment.
MRA_AWS_CALL_LOG = ""
# Emulated regions only (an endpoint in MRA_AWS_ENDPOINTS); on AWS the
# environment's credentials (the Lambda's role) are used and these are not read.
# The local administrator's key, which the emulators are started with.
MRA_AWS_LOCAL_ACCESS_KEY_ID = env.str("MRA_AWS_LOCAL_ACCESS_KEY_ID", default="AKIAMRALOCALADMIN001")
MRA_AWS_LOCAL_SECRET_ACCESS_KEY = env.str(
    "MRA_AWS_LOCAL_SECRET_ACCESS_KEY", default="mra-local-emulator-admin"
)
# A role to run as (e.g. mra-site-us-east-1), assumed in each emulated region;
# empty: the local administrator's key.
MRA_AWS_ASSUME_ROLE = env.str("MRA_AWS_ASSUME_ROLE", default="")

# Extra bootstrap steps, each `step(*, region, demo) -> list[str]` of changes.
MRA_BOOTSTRAP_STEPS: list[str] = [
    "routing.bootstrap.seed_state",
    # Before any object is written, so that every object's event reaches the replicator.
    "replication.bootstrap.media_events",
    # Before the demo photos, which the demo user owns by stable id.
    "accounts.bootstrap.register_demo_users",
    "photos.bootstrap.seed_demo_photos",
]

# The write gate sign-up passes: accounts sits below routing and gets it from here.
MRA_ACCOUNTS_WRITE_GATE = "routing.fencing"

MRA_DEMO_USERNAME = env.str("MRA_DEMO_USERNAME", default="demo")
MRA_DEMO_PASSWORD = env.str("MRA_DEMO_PASSWORD", default="Demo-pass-123")
MRA_DEMO_OPERATOR_USERNAME = env.str("MRA_DEMO_OPERATOR_USERNAME", default="operator")
MRA_DEMO_OPERATOR_PASSWORD = env.str("MRA_DEMO_OPERATOR_PASSWORD", default="Operator-pass-123")

# --- photos ------------------------------------------------------------------
MRA_PHOTO_MAX_BYTES = env.int("MRA_PHOTO_MAX_BYTES", default=20 * 1024 * 1024)
MRA_PHOTO_MAX_PIXELS = env.int("MRA_PHOTO_MAX_PIXELS", default=40_000_000)
# Images decoded at once per process; each may hold MRA_PHOTO_MAX_PIXELS x 4 bytes.
MRA_IMAGE_DECODES = env.int("MRA_IMAGE_DECODES", default=2)
# Lifetime of presigned media URLs; pages are rendered fresh, so minutes suffice.
MRA_PHOTO_URL_EXPIRY = env.int("MRA_PHOTO_URL_EXPIRY", default=900)
# e.g. https://media.example.com (CloudFront); empty serves presigned S3 URLs.
MRA_MEDIA_DOMAIN = env.str("MRA_MEDIA_DOMAIN", default="")
# photos_gc leaves younger objects alone: uploads write media before metadata.
MRA_PHOTO_GC_GRACE_SECONDS = env.int("MRA_PHOTO_GC_GRACE_SECONDS", default=3600)

# --- replication (local emulation of S3 replication and global tables) ---------
# Checkpoints, drill controls and status of `manage.py replicate`.
MRA_REPLICATION_STATE_DIR = Path(
    env.str("MRA_REPLICATION_STATE_DIR", default=str(BASE_DIR / "var" / "replication"))
)
# Each region's bucket sends its object events to this queue (`{region}` is replaced).
MRA_REPLICATION_QUEUE = env.str("MRA_REPLICATION_QUEUE", default="mra-media-events-{region}")
# A status older than this means the replicator is not running.
MRA_REPLICATION_STATUS_MAX_AGE = env.float("MRA_REPLICATION_STATUS_MAX_AGE", default=5.0)

# --- Django ------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "django.contrib.messages",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mra_site",
    "accounts",
    "photos",
    "routing",
    "replication",
]

MIDDLEWARE = [
    # First, so that every answer (static files, 404s, error pages) names its region.
    "mra_site.middleware.RegionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.CognitoCookieMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mra_site.csp.DeploymentCSPMiddleware",
    # Last, so that it is the first to see an exception a view raised.
    "mra_site.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "mra_site.urls"
WSGI_APPLICATION = "mra_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.messages.context_processors.messages",
                "mra_site.context_processors.region",
                "mra_site.context_processors.script_texts",
            ],
        },
    },
]

# No relational database: every byte of state lives in replicated AWS stores.
DATABASES: dict = {}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
CSRF_COOKIE_SAMESITE = "Lax"
# The host users use, for every cookie the site sets (session, CSRF, messages,
# tokens): on AWS the CloudFront name, so that a cookie set by one region's
# function is sent to the other's. Empty: host-only (locally, cookies ignore ports).
MRA_COOKIE_DOMAIN = env.str("MRA_COOKIE_DOMAIN", default="")
SESSION_COOKIE_DOMAIN = MRA_COOKIE_DOMAIN or None
CSRF_COOKIE_DOMAIN = MRA_COOKIE_DOMAIN or None

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = env.str("DJANGO_STATIC_URL", default="/static/")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Only where static files are collected (deploy/); unset, WhiteNoise serves from the finders.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default="") or None
# Served by WhiteNoise from the app directories in the local stack (no
# collectstatic step); deploy/ collects them to S3 behind CloudFront.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = env.bool("WHITENOISE_AUTOREFRESH", default=False)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.CognitoBearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mra_site.api.exception_handler",
    "UNAUTHENTICATED_USER": "accounts.users.AnonymousUser",
}

# No inline script or style anywhere: the one inline <script> is JSON data
# (json_script), which browsers do not run. mra_site.csp adds the regional
# sites (connect-src, form-action) and the media origins (img-src).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # blob: for the upload form's preview of the chosen file (URL.createObjectURL).
        "img-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

SPECTACULAR_SETTINGS = {
    "TITLE": "mra API",
    "DESCRIPTION": "Photo sharing and routing control across two AWS regions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A deep link inside each operation's toggle button nests a link in a button
    # (axe: nested-interactive); the docs work without it.
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"health_checks": {"()": "mra_site.logs.HealthCheckAnswers"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("MRA_LOG_LEVEL", default="INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "django.request": {"filters": ["health_checks"]},
    },
}
CSRF_FAILURE_VIEW = "mra_site.views.csrf_failure"
