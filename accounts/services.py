"""Sign-up, sign-in and refresh against the serving region's Cognito pool."""

import logging
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace

from django.conf import settings

from mra_site.aws import cognito
from mra_site.aws.clients import other_region, regions
from mra_site.aws.cognito import Tokens
from mra_site.aws.errors import AuthFailed, AwsError, InvalidRequest, RegionUnavailable
from mra_site.errors import ApplicationError

from . import gate, identity, registry
from .tokens import refresh_tokens_join, refresh_tokens_split

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
        409: "username_taken",
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


# How long sign-in waits for the other region's pool once the serving region's
# answered, and sign-out for the revocations: a hung region costs at most this.
PEER_WAIT_SECONDS = 1.5
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="accounts")


def user_sign_in(*, username: str, password: str) -> Tokens:
    """Tokens from the serving region's pool for a username and password.

    Both regions' pools are asked at once: the answer's refresh token holds one
    token per pool that answered (`refresh_tokens_join`), so that the session
    can be refreshed in whichever region survives. When the serving region's
    pool does not answer, the other pool's tokens do. Only pools the registry
    recorded for the user count (`identity.sign_in_registered`), which also
    claims a user created directly in Cognito and completes a pending pool.
    """
    region = settings.MRA_REGION
    if not username or not password:
        raise AccountError("Enter your username and password.")
    username = username.strip()
    record = registry.user_find(username=username)
    if record:
        username = record.username
    peer = other_region(region)
    peer_attempt = _executor.submit(_sign_in_or_error, peer, username, password)
    local = _sign_in_or_error(region, username, password)
    done, _ = wait([peer_attempt], timeout=PEER_WAIT_SECONDS)
    answered = {region: local}
    if done:
        answered[peer] = peer_attempt.result()
    tokens = identity.sign_in_registered(
        record=record, username=username, password=password, answered=answered
    )
    if not tokens:
        failure = local if isinstance(local, AwsError) else answered.get(peer)
        if isinstance(failure, AwsError):
            raise _sign_in_refused(failure, region) from failure
        raise AccountError("Incorrect username or password.", status=401)
    for failed_region, error in answered.items():
        if isinstance(error, AwsError) and failed_region != region:
            logger.info("no refresh token from %s at sign-in: %s", failed_region, error)
    chosen = tokens.get(region) or tokens[peer]
    return replace(
        chosen,
        refresh_token=refresh_tokens_join({r: t.refresh_token for r, t in tokens.items()}),
    )


def _sign_in_or_error(region: str, username: str, password: str) -> Tokens | AwsError:
    try:
        return cognito.sign_in(region=region, username=username, password=password)
    except AwsError as exc:
        return exc


def _sign_in_refused(exc: AwsError, region: str) -> AccountError:
    if isinstance(exc, AuthFailed) and exc.aws_code == "UserNotConfirmedException":
        return AccountError(
            "This account is not confirmed yet. Confirm it with the code sent by e-mail, "
            "then sign in.",
            status=403,
        )
    if isinstance(exc, RegionUnavailable):
        return _unavailable(region)
    if not isinstance(exc, AuthFailed):
        logger.warning("sign-in failed: %s", exc)
    return AccountError("Incorrect username or password.", status=401)


@dataclass(frozen=True)
class SignUpOutcome:
    confirmed: bool
    # Where the confirmation code went, masked as Cognito shows it.
    destination: str = ""


def user_sign_up(*, username: str, email: str, password: str) -> SignUpOutcome:
    """Claim the username in the registry, then create the user in the serving
    region's pool, and in the other region's once confirmed.

    Sign-up is a write: it happens in the writable region only. The name is
    claimed (NFKC, case-folded) before any pool is asked, so no variant of a
    taken name and no second sign-up in the other region can become the same
    user. On AWS the pool e-mails a code and the user stays unconfirmed until
    user_confirm_sign_up; with MRA_COGNITO_AUTO_CONFIRM (local stacks) the user
    is confirmed at once. A pool that cannot be reached stays pending in the
    registry and is completed at the user's next sign-in."""
    region = settings.MRA_REGION
    email = email.strip()
    username = _username_clean(username)
    if not EMAIL_RE.match(email):
        raise AccountError("Enter a valid e-mail address.", field="email")
    try:
        cognito.validate_password(password)
    except InvalidRequest as exc:
        raise AccountError(str(exc), field="password") from exc
    if registry.user_find(username=username):
        raise _taken()
    gate.assert_writable(region=region)
    try:
        record = registry.user_claim(
            username=username, created_at=registry.now(), subs={}, pending=tuple(regions())
        )
    except registry.NameTaken as exc:
        raise _taken() from exc
    try:
        result = _pool_sign_up(region=region, username=username, email=email, password=password)
    except BaseException:
        _release_quietly(record)
        raise
    record = registry.user_pool_record(record=record, pool_region=region, sub=result.sub)
    if result.confirmed:
        identity.provision_peer(
            record=record, pool_region=other_region(region), email=email, password=password
        )
    return SignUpOutcome(confirmed=result.confirmed, destination=result.destination)


def _username_clean(username: str) -> str:
    if username != username.strip():
        raise AccountError(
            "Usernames cannot begin or end with a space. Remove the space and try again.",
            field="username",
        )
    username = unicodedata.normalize("NFKC", username)
    if not USERNAME_RE.match(username):
        raise AccountError(
            "Usernames are 3 to 32 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit.",
            field="username",
        )
    return username


def _taken() -> AccountError:
    return AccountError(
        "That username is taken (in any mix of upper and lower case). Choose another.",
        field="username",
        status=409,
    )


def _pool_sign_up(*, region: str, username: str, email: str, password: str) -> cognito.SignUp:
    try:
        result = cognito.sign_up(region=region, username=username, password=password, email=email)
        if not result.confirmed and settings.MRA_COGNITO_AUTO_CONFIRM:
            cognito.admin_confirm_sign_up(region=region, username=username)
            result = replace(result, confirmed=True, destination="")
    except InvalidRequest as exc:
        if exc.aws_code == "UsernameExistsException":
            raise _taken() from exc
        if exc.aws_code == "InvalidPasswordException":
            raise AccountError(
                "Choose a stronger password: at least 10 characters with upper- and "
                "lower-case letters and a digit.",
                field="password",
            ) from exc
        raise AccountError(f"Sign-up was refused: {exc}") from exc
    except RegionUnavailable as exc:
        raise _unavailable(region) from exc
    if not result.sub:
        result = replace(result, sub=cognito.user_sub(region=region, username=username) or "")
    return result


def _release_quietly(record: registry.UserRecord) -> None:
    try:
        registry.user_release(record=record)
    except AwsError as exc:
        logger.warning("claim on %r not released: %s", record.normalised, exc)


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
    """Sign in (which checks the password, and creates the user in the other
    region's pool, pending there until now), then once more if that completed
    a pool, so that the session holds a refresh token of both pools."""
    tokens = user_sign_in(username=username, password=password)
    if len(refresh_tokens_split(tokens.refresh_token)) < len(regions()):
        return user_sign_in(username=username, password=password)
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


def tokens_refresh(*, refresh_token: str, expired_access: str | None = None) -> Tokens:
    """New tokens from the first pool that answers, the serving region's first.

    `refresh_token` holds a refresh token per pool (`refresh_tokens_join`); a
    bare Cognito refresh token of an unknown pool is tried in each. Trying the
    serving region's pool first never waits on a region that is down, and
    keeps the user of the primary's pool signed in through the secondary. A
    pool that answers and refuses its own token (revoked at sign-out, user
    disabled) ends the session: another pool must not undo that.
    """
    by_region = refresh_tokens_split(refresh_token, access_token=expired_access)
    order = (settings.MRA_REGION, other_region(settings.MRA_REGION))
    attempts = [(region, by_region[region], True) for region in order if region in by_region]
    if "" in by_region:
        attempts += [(region, by_region[""], False) for region in order if region not in by_region]
    if not attempts:
        raise AuthFailed("no refresh token of a trusted user pool")
    failure: AwsError | None = None
    for region, token, own_pool in attempts:
        try:
            tokens = cognito.refresh(region=region, refresh_token=token)
        except RegionUnavailable as exc:
            failure = exc
            continue
        except AuthFailed as exc:
            if own_pool:
                raise
            failure = exc
            continue
        kept = {r: t for r, t in by_region.items() if r}
        kept[region] = token
        return replace(tokens, refresh_token=refresh_tokens_join(kept))
    assert failure is not None
    raise failure


def user_refresh(*, refresh_token: str) -> Tokens:
    """New tokens for an API client's refresh token, from the serving region's pool
    when it holds one of its tokens, else from the other region's."""
    try:
        return tokens_refresh(refresh_token=refresh_token)
    except RegionUnavailable as exc:
        raise _unavailable(settings.MRA_REGION) from exc
    except AwsError as exc:
        raise AccountError(
            "The refresh token is invalid or expired. Sign in again.", status=401
        ) from exc


def user_sign_out(*, refresh_token: str | None, access_token: str | None) -> None:
    """Revoke each pool's refresh token where it was issued; signing out never fails,
    and waits a moment at most for a region that does not answer."""
    if not refresh_token:
        return
    by_region = refresh_tokens_split(refresh_token, access_token=access_token)
    attempts = [
        _executor.submit(_revoke_quietly, region or settings.MRA_REGION, token)
        for region, token in by_region.items()
    ]
    wait(attempts, timeout=PEER_WAIT_SECONDS)


def _revoke_quietly(region: str, refresh_token: str) -> None:
    try:
        cognito.revoke(region=region, refresh_token=refresh_token)
    except AwsError as exc:
        logger.info("refresh token not revoked in %s: %s", region, exc)
