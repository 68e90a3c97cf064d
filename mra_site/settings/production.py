"""AWS: one Lambda function per region behind API Gateway and CloudFront.

Everything deployment-specific comes from the environment that
deploy/zappa_settings.json gives each stage; a missing value stops start-up
with ImproperlyConfigured naming it. deploy/production.env.example lists them.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from mra_site.aws.errors import AwsError
from mra_site.aws.secretsmanager import secret_versions_get
from mra_site.checks import SECRET_KEY_HINT, auto_confirm_on_aws, secret_key_weakness

from .base import *  # noqa: F403
from .base import (
    MRA_COGNITO_AUTO_CONFIRM,
    MRA_PRIMARY_REGION,
    MRA_REGION,
    MRA_SECONDARY_REGION,
    _region_map,
    env,
)


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set for mra_site.settings.production "
            "(see deploy/production.env.example and deploy/README.md)"
        )
    return value


def _required_region_map(name: str) -> dict[str, str]:
    _required(name)
    mapping = _region_map(name, "")
    missing = [r for r in (MRA_PRIMARY_REGION, MRA_SECONDARY_REGION) if not mapping.get(r)]
    if missing:
        raise ImproperlyConfigured(f"{name} has no value for {', '.join(missing)}")
    return mapping


def _refuse_weak(key: str, source: str) -> str:
    why = secret_key_weakness(key)
    if why:
        raise ImproperlyConfigured(
            f"{source} {why}: mra_site.settings.production refuses it. {SECRET_KEY_HINT}"
        )
    return key


def _secret_keys(endpoints: dict[str, str]) -> tuple[str, list[str]]:
    """SECRET_KEY and its fallbacks: DJANGO_SECRET_KEY when given (a workstation's
    check), else the deployment's one secret, from this region's replica. A weak
    or public key stops start-up."""
    given = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if given:
        return _refuse_weak(given, "DJANGO_SECRET_KEY"), []
    secret_id = os.environ.get("MRA_SECRET_KEY_SECRET_ID", "").strip()
    if not secret_id:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set for mra_site.settings.production, or "
            "MRA_SECRET_KEY_SECRET_ID naming the Secrets Manager secret that holds it "
            "(see deploy/README.md)"
        )
    try:
        versions = secret_versions_get(
            secret_id=secret_id, region=MRA_REGION, endpoint=endpoints.get(MRA_REGION, "")
        )
    except AwsError as exc:
        raise ImproperlyConfigured(
            f"MRA_SECRET_KEY_SECRET_ID={secret_id!r}: the secret could not be read in "
            f"{MRA_REGION} ({exc}); check its replica there and the function role's "
            "secretsmanager:GetSecretValue (deploy/README.md)"
        ) from exc
    source = f"The secret MRA_SECRET_KEY_SECRET_ID={secret_id!r}"
    current = _refuse_weak(versions.current, f"{source} (AWSCURRENT)")
    if not versions.previous:
        return current, []
    return current, [_refuse_weak(versions.previous, f"{source} (AWSPREVIOUS)")]


DEBUG = False
# On AWS every client uses the real endpoint and the Lambda role's credentials.
MRA_AWS_ENDPOINTS = _region_map("MRA_AWS_ENDPOINTS", "")
# One key for the whole deployment: sessions, messages, cursors and CSRF tokens
# signed in one region are valid in the other.
SECRET_KEY, SECRET_KEY_FALLBACKS = _secret_keys(MRA_AWS_ENDPOINTS)
ALLOWED_HOSTS = [h.strip() for h in _required("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in _required("DJANGO_CSRF_TRUSTED_ORIGINS").split(",") if o.strip()
]
# Cookies belong to the name users use (CloudFront), whichever region set them.
MRA_COOKIE_DOMAIN = _required("MRA_COOKIE_DOMAIN")
SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = MRA_COOKIE_DOMAIN
if f"https://{MRA_COOKIE_DOMAIN}" not in CSRF_TRUSTED_ORIGINS:
    raise ImproperlyConfigured(
        f"DJANGO_CSRF_TRUSTED_ORIGINS must include https://{MRA_COOKIE_DOMAIN} "
        "(MRA_COOKIE_DOMAIN, the address users post forms from)"
    )
MRA_REGION_URLS = _required_region_map("MRA_REGION_URLS")
# Looking pools up by name would need cognito-idp:ListUserPools on every pool
# in the account; the stack outputs name them instead.
MRA_COGNITO_POOL_IDS = _required_region_map("MRA_COGNITO_POOL_IDS")
MRA_COGNITO_CLIENT_IDS = _required_region_map("MRA_COGNITO_CLIENT_IDS")
# On AWS the pool e-mails a code at sign-up (AutoVerifiedAttributes), and the
# site asks for it; confirming without it is for local stacks only.
if auto_confirm_on_aws(
    auto_confirm=MRA_COGNITO_AUTO_CONFIRM,
    endpoints=MRA_AWS_ENDPOINTS,
    regions=(MRA_PRIMARY_REGION, MRA_SECONDARY_REGION),
):
    raise ImproperlyConfigured(
        "MRA_COGNITO_AUTO_CONFIRM must be off with real AWS endpoints (MRA_AWS_ENDPOINTS): "
        "sign-up on AWS requires e-mail verification"
    )

# API Gateway terminates TLS and CloudFront talks HTTPS to it; the request
# reaches Django as plain WSGI with X-Forwarded-Proto set by API Gateway.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

# Static files are collected to each region's static bucket and served by
# CloudFront under /static/ (deploy/cloudformation); Lambda never serves them.
MRA_STATIC_BUCKET = _required("MRA_STATIC_BUCKET")
STATIC_URL = _required("DJANGO_STATIC_URL")
WHITENOISE_USE_FINDERS = False
# static/ is collected from a checkout and left out of the Lambda package.
STATICFILES_DIRS = [d for d in STATICFILES_DIRS if d.is_dir()]  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MRA_STATIC_BUCKET.format(region=MRA_REGION),
            "region_name": MRA_REGION,
            "location": "static",
            "default_acl": None,
            "querystring_auth": False,
            "file_overwrite": True,
            "object_parameters": {"CacheControl": "public, max-age=3600"},
        },
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "mra_site.logs.JsonFormatter", "region": MRA_REGION}},
    "filters": {"health_checks": {"()": "mra_site.logs.HealthCheckAnswers"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
        }
    },
    "root": {"handlers": ["stdout"], "level": env.str("MRA_LOG_LEVEL", default="INFO")},
    "loggers": {
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "django.request": {"level": "WARNING", "propagate": True, "filters": ["health_checks"]},
    },
}
