"""Sign-up, sign-in and refresh against the serving region's Cognito pool."""

import logging
import re

from django.conf import settings

from mra_site.aws import cognito
from mra_site.aws.clients import other_region
from mra_site.aws.cognito import Tokens
from mra_site.aws.errors import AuthFailed, AwsError, InvalidRequest, RegionUnavailable
from mra_site.errors import ApplicationError

from .tokens import issuing_region

logger = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ApplicationError):
    """A sign-up or sign-in problem, worded for the person at the keyboard."""

    # The codes POST /api/auth/token has always answered with.
    _CODES = {
        400: "invalid",
        401: "invalid_credentials",
        403: "user_not_confirmed",
        503: "region_unavailable",
    }

    def __init__(self, detail: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(
            detail,
            code=self._CODES.get(status, "invalid"),
            status=status,
            field=field,
            retry_after=5 if status == 503 else None,
        )


def _unavailable(region: str) -> AccountError:
    return AccountError(
        f"Accounts are unavailable in {region} right now. Try again in a minute.", status=503
    )


def user_sign_in(*, username: str, password: str) -> Tokens:
    """Tokens from the serving region's pool for a username and password."""
    region = settings.MRA_REGION
    if not username or not password:
        raise AccountError("Enter your username and password.")
    try:
        return cognito.sign_in(region=region, username=username.strip(), password=password)
    except AuthFailed as exc:
        if exc.aws_code == "UserNotConfirmedException":
            raise AccountError(
                "This account is not confirmed yet. Confirm it with the code sent by e-mail, "
                "then sign in.",
                status=403,
            ) from exc
        raise AccountError("Incorrect username or password.", status=401) from exc
    except RegionUnavailable as exc:
        raise _unavailable(region) from exc
    except AwsError as exc:
        logger.warning("sign-in failed: %s", exc)
        raise AccountError("Incorrect username or password.", status=401) from exc


def user_sign_up(*, username: str, email: str, password: str) -> None:
    """Create a user in the serving region's pool, and in the other region's pool
    so that the user can sign in there after a failover."""
    region = settings.MRA_REGION
    username = username.strip()
    email = email.strip()
    if not USERNAME_RE.match(username):
        raise AccountError(
            "Usernames are 3 to 32 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit.",
            field="username",
        )
    if not EMAIL_RE.match(email):
        raise AccountError("Enter a valid e-mail address.", field="email")
    try:
        cognito.validate_password(password)
    except InvalidRequest as exc:
        raise AccountError(str(exc), field="password") from exc
    try:
        if cognito.user_exists(region=region, username=username):
            raise AccountError("That username is taken. Choose another.", field="username")
        cognito.sign_up(region=region, username=username, password=password, email=email)
    except InvalidRequest as exc:
        if exc.aws_code == "UsernameExistsException":
            raise AccountError("That username is taken. Choose another.", field="username") from exc
        if exc.aws_code == "InvalidPasswordException":
            raise AccountError(
                "Choose a stronger password: at least 10 characters with upper- and "
                "lower-case letters and a digit.",
                field="password",
            ) from exc
        raise AccountError(f"Sign-up was refused: {exc}") from exc
    except RegionUnavailable as exc:
        raise _unavailable(region) from exc
    if settings.MRA_COGNITO_PROVISION_PEER:
        _provision_peer(username=username, email=email, password=password)


def _provision_peer(*, username: str, email: str, password: str) -> None:
    peer = other_region(settings.MRA_REGION)
    try:
        cognito.admin_ensure_user(region=peer, username=username, password=password, email=email)
    except AwsError as exc:
        # The account works here; it reaches the peer pool when replication
        # is set up on AWS, or the next time the user signs up locally.
        logger.warning("user %s not provisioned in %s: %s", username, peer, exc)


def tokens_refresh(*, refresh_token: str, expired_access: str | None = None) -> Tokens:
    """New tokens from the pool that issued the session."""
    region = (expired_access and issuing_region(expired_access)) or settings.MRA_REGION
    if region not in (settings.MRA_PRIMARY_REGION, settings.MRA_SECONDARY_REGION):
        raise AuthFailed("session issued by an unknown region")
    return cognito.refresh(region=region, refresh_token=refresh_token)


def user_refresh(*, refresh_token: str) -> Tokens:
    """New tokens for an API client's refresh token, from the serving region's pool."""
    try:
        return tokens_refresh(refresh_token=refresh_token)
    except RegionUnavailable as exc:
        raise _unavailable(settings.MRA_REGION) from exc
    except AwsError as exc:
        raise AccountError(
            "The refresh token is invalid or expired. Sign in again.", status=401
        ) from exc


def user_sign_out(*, refresh_token: str | None, access_token: str | None) -> None:
    """Revoke the refresh token where it was issued; signing out never fails."""
    if not refresh_token:
        return
    region = (access_token and issuing_region(access_token)) or settings.MRA_REGION
    try:
        cognito.revoke(region=region, refresh_token=refresh_token)
    except AwsError as exc:
        logger.info("refresh token not revoked in %s: %s", region, exc)
