"""Who a sign-in or a token is, through the user registry rather than a pool's
bare username."""

import logging
from dataclasses import replace
from typing import Any

from django.conf import settings
from jose import jwt
from jose.exceptions import JOSEError

from mra_site.aws import cognito
from mra_site.aws.clients import regions
from mra_site.aws.cognito import Tokens
from mra_site.aws.errors import AuthFailed, AwsError
from mra_site.errors import ApplicationError

from . import gate, registry
from .registry import NameTaken, UserRecord
from .tokens import user_from_claims
from .users import CognitoUser

logger = logging.getLogger(__name__)


def _sub(tokens: Tokens) -> str:
    # Straight from Cognito over TLS: the claims need no second check here.
    try:
        return str(jwt.get_unverified_claims(tokens.access_token).get("sub", ""))
    except JOSEError:
        return ""


def sign_in_registered(
    *,
    record: UserRecord | None,
    username: str,
    password: str,
    answered: dict[str, Tokens | AwsError],
) -> dict[str, Tokens]:
    """The tokens of the pools the registry recorded for the user, by region.

    A user created directly in Cognito (no record yet) is claimed here, in the
    writable region; a pool the user is pending in is completed while the
    password is at hand. A pool's user counts only if the registry recorded its
    `sub`, or the same password also opened a recorded pool."""
    subs = {r: _sub(t) for r, t in answered.items() if isinstance(t, Tokens)}
    subs = {r: s for r, s in subs.items() if s}
    serving = settings.MRA_REGION
    if record is None:
        if not subs or isinstance(answered.get(serving), AuthFailed):
            return {}
        record = _claim_at_first_sign_in(username=username, subs=subs)
    if not any(record.recorded(r, s) for r, s in subs.items()):
        return {}
    if isinstance(answered.get(serving), AuthFailed) and serving in record.subs:
        # The serving region's own recorded pool refused the password.
        return {}
    if record.pending and _writable_here():
        record = _complete_pending(record=record, password=password, subs=subs, answered=answered)
    return {
        r: t
        for r, t in answered.items()
        if isinstance(t, Tokens) and record.recorded(r, subs.get(r, ""))
    }


def _writable_here() -> bool:
    try:
        return gate.writable_region() == settings.MRA_REGION
    except AwsError:
        return False


def _claim_at_first_sign_in(*, username: str, subs: dict[str, str]) -> UserRecord:
    gate.assert_writable()
    try:
        return registry.user_claim(
            username=username,
            created_at=registry.now(),
            subs=subs,
            pending=tuple(r for r in regions() if r not in subs),
        )
    except NameTaken:
        # Claimed meanwhile (a concurrent sign-in or sign-up): that claim decides.
        found = registry.user_find(username=username)
        if found is None:
            raise
        return found


def _complete_pending(
    *,
    record: UserRecord,
    password: str,
    subs: dict[str, str],
    answered: dict[str, Tokens | AwsError],
) -> UserRecord:
    for pool_region in record.pending:
        try:
            sub = subs.get(pool_region) or _create_in_pool(
                record=record, pool_region=pool_region, password=password
            )
            if sub:
                record = registry.user_pool_record(record=record, pool_region=pool_region, sub=sub)
        except ApplicationError as exc:
            logger.warning("user %s still pending in %s: %s", record.id, pool_region, exc)
    return record


def _create_in_pool(*, record: UserRecord, pool_region: str, password: str) -> str | None:
    """Create the user in a pool that lacks it; None when the pool holds another
    user under that name, which is never adopted."""
    if cognito.user_sub(region=pool_region, username=record.username) is not None:
        logger.warning(
            "pool of %s holds another user named %r (not %s): an administrator should remove it",
            pool_region,
            record.username,
            record.id,
        )
        return None
    source = next(iter(record.subs))
    email = cognito.user_email(region=source, username=record.username)
    cognito.admin_ensure_user(
        region=pool_region, username=record.username, password=password, email=email
    )
    return cognito.user_sub(region=pool_region, username=record.username)


def provision_peer(*, record: UserRecord, pool_region: str, email: str, password: str) -> bool:
    """Create a new user in another region's pool and record it there; on failure
    the pool stays pending in the registry, completed at the next sign-in."""
    if not settings.MRA_COGNITO_PROVISION_PEER:
        return False
    try:
        if cognito.user_sub(region=pool_region, username=record.username) is not None:
            logger.warning(
                "pool of %s holds another user named %r: %s stays pending there",
                pool_region,
                record.username,
                record.id,
            )
            return False
        cognito.admin_ensure_user(
            region=pool_region, username=record.username, password=password, email=email
        )
        sub = cognito.user_sub(region=pool_region, username=record.username)
        if not sub:
            return False
        registry.user_pool_record(record=record, pool_region=pool_region, sub=sub)
    except ApplicationError as exc:
        logger.warning("user %s pending in %s: %s", record.id, pool_region, exc)
        return False
    return True


def user_for_claims(claims: dict[str, Any]) -> CognitoUser | None:
    """The signed-in user of verified claims, with the registry's stable id; None
    when the token's pool and `sub` are not the ones recorded for its username."""
    user = user_from_claims(claims)
    record = registry.user_for_token(username=user.username, pool_region=user.region, sub=user.sub)
    if record is None:
        return None
    return replace(user, id=record.id, username=record.username)
