"""Sign-up, sign-in and refresh against the serving region's Cognito pool."""

import logging
import re
from dataclasses import dataclass

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
        429: "too_many_attempts",
        503: "region_unavailable",
    }
    # Cognito does not say how long its attempt limit lasts; a minute is a
    # fair first wait.
    _RETRY_AFTER = {429: 60, 503: 5}

    def __init__(self, detail: str, *, field: str | None = None, status: int = 400) -> None:
        super().__init__(
            detail,
            code=self._CODES.get(status, "invalid"),
            status=status,
            field=field,
            retry_after=self._RETRY_AFTER.get(status),
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


@dataclass(frozen=True)
class SignUpOutcome:
    confirmed: bool
    # Where the confirmation code went, masked as Cognito shows it.
    destination: str = ""


def user_sign_up(*, username: str, email: str, password: str) -> SignUpOutcome:
    """Create a user in the serving region's pool.

    On AWS the pool e-mails a code and the user stays unconfirmed until
    user_confirm_sign_up; with MRA_COGNITO_AUTO_CONFIRM (local stacks) the
    user is confirmed at once and created in the other region's pool too, so
    that the user can sign in there after a failover."""
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
        result = cognito.sign_up(region=region, username=username, password=password, email=email)
        if not result.confirmed and settings.MRA_COGNITO_AUTO_CONFIRM:
            cognito.admin_confirm_sign_up(region=region, username=username)
            result = cognito.SignUp(confirmed=True, destination="")
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
    if result.confirmed:
        _provision_peer(username=username, email=email, password=password)
    return SignUpOutcome(confirmed=result.confirmed, destination=result.destination)


def user_confirm_sign_up(*, username: str, code: str, password: str) -> Tokens:
    """Confirm a new account with its e-mailed code, then sign the user in and
    create the user in the other region's pool.

    The password is checked first, so that a mistyped password never uses up
    the code; an account confirmed already (a second click) just signs in."""
    region = settings.MRA_REGION
    username = username.strip()
    try:
        return _signed_in_and_provisioned(region=region, username=username, password=password)
    except AccountError as exc:
        if exc.status != 403:
            raise
    try:
        cognito.confirm_sign_up(region=region, username=username, code=code.strip())
    except RegionUnavailable as exc:
        raise _unavailable(region) from exc
    except AwsError as exc:
        if exc.aws_code != "NotAuthorizedException":  # confirmed meanwhile
            raise _code_error(exc) from exc
    return _signed_in_and_provisioned(region=region, username=username, password=password)


def user_resend_code(*, username: str) -> str:
    """E-mail a new confirmation code; returns where it went, masked."""
    region = settings.MRA_REGION
    try:
        return cognito.resend_confirmation_code(region=region, username=username.strip())
    except RegionUnavailable as exc:
        raise _unavailable(region) from exc
    except AwsError as exc:
        raise _code_error(exc) from exc


def _signed_in_and_provisioned(*, region: str, username: str, password: str) -> Tokens:
    tokens = user_sign_in(username=username, password=password)
    try:
        email = cognito.user_email(region=region, username=username)
    except AwsError as exc:
        logger.warning("e-mail of %s not read in %s: %s", username, region, exc)
        return tokens
    _provision_peer(username=username, email=email, password=password)
    return tokens


_CODE_ERRORS = {
    "CodeMismatchException": (
        "That code is not right. Enter the 6-digit code from the latest e-mail we sent you.",
        "code",
        400,
    ),
    "ExpiredCodeException": (
        "That code has expired. Send a new code, then enter the one from the new e-mail.",
        "code",
        400,
    ),
    "LimitExceededException": (
        "Too many attempts. Wait a few minutes, then try again.",
        None,
        429,
    ),
    "UserNotFoundException": (
        "No account is waiting for confirmation under that username.",
        "username",
        400,
    ),
    "InvalidParameterException": (
        "This account is confirmed already. Sign in with your password.",
        None,
        400,
    ),
}


def _code_error(exc: AwsError) -> AccountError:
    detail, field, status = _CODE_ERRORS.get(
        exc.aws_code, ("The account could not be confirmed. Try again in a minute.", None, 400)
    )
    if exc.aws_code not in _CODE_ERRORS:
        logger.warning("confirmation failed: %s", exc)
    return AccountError(detail, field=field, status=status)


def _provision_peer(*, username: str, email: str, password: str) -> None:
    if not settings.MRA_COGNITO_PROVISION_PEER:
        return
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
