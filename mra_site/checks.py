"""System checks that `manage.py check --deploy` runs, and the rule they share
with mra_site.settings.production."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)

# The default of mra_site.settings.base and the value .env.example ships: it is
# public, so nothing it signs can be trusted.
DEVELOPMENT_SECRET_KEY = "insecure-local-only-key-change-me-for-any-real-deployment"

SECRET_KEY_HINT = (
    "Use a key of its own for each deployment, at least 50 random characters: "
    "python -c 'import secrets; print(secrets.token_urlsafe(50))' (deploy/README.md)."
)


def secret_key_weakness(key: str) -> str | None:
    """Why `key` may not sign anything in production (Django's security.W009
    rule, and never the development key), or None when it may."""
    if key.strip() == DEVELOPMENT_SECRET_KEY:
        return "is the development key published in the repository"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"has {len(key)} characters; at least {SECRET_KEY_MIN_LENGTH} are needed"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return (
            f"has {len(set(key))} distinct characters; "
            f"at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} are needed"
        )
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return f"starts with {SECRET_KEY_INSECURE_PREFIX!r}, as keys made for development do"
    return None


def auto_confirm_on_aws(
    *, auto_confirm: bool, endpoints: dict[str, str], regions: Iterable[str]
) -> bool:
    """Sign-up would skip e-mail verification in a region served by real AWS."""
    return auto_confirm and any(not endpoints.get(region) for region in regions)


@register(Tags.security, deploy=True)
def check_secret_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    keys = [("SECRET_KEY", getattr(settings, "SECRET_KEY", ""))] + [
        (f"SECRET_KEY_FALLBACKS[{i}]", key)
        for i, key in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", []))
    ]
    return [
        Error(f"{name} {why}.", hint=SECRET_KEY_HINT, id="mra.E001")
        for name, key in keys
        if (why := secret_key_weakness(str(key)))
    ]


@register(Tags.security, deploy=True)
def check_sign_up_verification(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    regions = [
        getattr(settings, "MRA_PRIMARY_REGION", ""),
        getattr(settings, "MRA_SECONDARY_REGION", ""),
    ]
    if not auto_confirm_on_aws(
        auto_confirm=getattr(settings, "MRA_COGNITO_AUTO_CONFIRM", False),
        endpoints=getattr(settings, "MRA_AWS_ENDPOINTS", {}),
        regions=regions,
    ):
        return []
    return [
        Error(
            "MRA_COGNITO_AUTO_CONFIRM is on while a region uses real AWS: sign-up would "
            "skip e-mail verification.",
            hint="Unset MRA_COGNITO_AUTO_CONFIRM (it is for local stacks only).",
            id="mra.E002",
        )
    ]
