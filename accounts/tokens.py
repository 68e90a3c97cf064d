"""Verification of Cognito JWTs with python-jose.

Tokens are trusted only from the user pools of the two configured regions,
signed with RS256 by a key in that pool's JWKS. The header and the claims'
types are checked here before python-jose sees the token: it is lenient
(a missing `exp`, `exp` as a string, a non-string `kid`).
"""

import base64
import binascii
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from jose import ExpiredSignatureError, JWTError, jwk, jwt

from mra_site.aws.clients import regions
from mra_site.aws.cognito import PoolConfig, jwks_fetch, pool_config
from mra_site.aws.errors import AwsError

from .users import CognitoUser

TokenUse = Literal["access", "id"]
_ISSUER_RE = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([\w-]+)$")
logger = logging.getLogger(__name__)

JWKS_FETCH_TIMEOUT = 3.0
JWKS_BACKGROUND_WAIT = 0.5
_WARMED = -1.0
# Cognito's tokens are one to a few KB, and a cookie holds at most 4 KB.
MAX_TOKEN_LENGTH = 8 * 1024
_TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time")


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why."""


class TokenExpired(InvalidToken):
    """Expired, or older than the site accepts: a refresh gives a new one."""


class KeysUnavailable(InvalidToken):
    """The token's pool has not published its keys to this process (its region
    is down): the token can be neither trusted nor refused, a refresh in a pool
    that answers replaces it."""


@dataclass
class _JwksEntry:
    keys: dict[str, dict[str, Any]]
    fetched_at: float


class JwksCache:
    """Each pool's signing keys, by JWKS URL.

    Keys are fetched again after MRA_COGNITO_JWKS_TTL seconds, in the
    background: until a fetch succeeds the keys held are used, however old,
    so a valid token never fails because its pool's region is down. A token
    naming a key we do not know fetches the keys again (the pool may have
    rotated them). Either fetch happens at most once per
    MRA_COGNITO_JWKS_REFETCH_SECONDS per pool: anyone can make up a `kid`,
    and each would otherwise cost a fetch; a region that is down is not asked
    again and again.
    A fetch in the background is waited for at most JWKS_BACKGROUND_WAIT
    seconds: long enough for a region that answers, short for one that hangs.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _JwksEntry] = {}
        self._refetched_at: dict[str, float] = {}
        self._in_flight: dict[str, Future[None]] = {}
        self._warmed_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="jwks")

    def key(self, pool: PoolConfig, kid: str) -> dict[str, Any]:
        url = pool.jwks_url
        entry = self._entries.get(url)
        if entry is None:
            entry = self._fetch(pool)
        elif time.monotonic() - entry.fetched_at > settings.MRA_COGNITO_JWKS_TTL:
            if self._may_refetch(url, entry):
                self.refresh_soon(pool)
            entry = self._entries[url]
        if kid not in entry.keys and self._may_refetch(url, entry):
            try:
                entry = self._fetch(pool)
            except KeysUnavailable as exc:
                logger.info("%s", exc)
        if kid not in entry.keys:
            raise InvalidToken(f"unknown signing key {kid[:64]!r}")
        return entry.keys[kid]

    def refresh_soon(self, pool: PoolConfig) -> None:
        """Fetch the pool's keys in the background, the keys held kept if it fails."""
        self._in_background(pool.jwks_url, lambda: self._fetch(pool))

    def warm(self, region: str) -> None:
        """Hold the keys of `region`'s pool before one of its tokens is seen, so
        that its tokens verify here once that region is down; tried again after
        MRA_COGNITO_JWKS_REFETCH_SECONDS while it fails."""
        now = time.monotonic()
        with self._lock:
            last = self._warmed_at.get(region)
            if last is not None and (
                last == _WARMED or now - last < settings.MRA_COGNITO_JWKS_REFETCH_SECONDS
            ):
                return
            self._warmed_at[region] = now

        def fetch() -> None:
            try:
                pool = pool_config(region)
            except AwsError as exc:
                raise KeysUnavailable(f"the user pool of {region} did not answer: {exc}") from exc
            if pool.jwks_url not in self._entries:
                self._fetch(pool)
            with self._lock:
                self._warmed_at[region] = _WARMED

        self._in_background(f"warm:{region}", fetch)

    def _in_background(self, name: str, fetch: Callable[[], object]) -> None:
        """Run `fetch` on the cache's threads, one of each name at a time, waiting
        a moment for it."""

        def run() -> None:
            try:
                fetch()
            except KeysUnavailable as exc:
                logger.info("keeping the signing keys held: %s", exc)
            finally:
                with self._lock:
                    self._in_flight.pop(name, None)

        with self._lock:
            if name in self._in_flight:
                return
            future = self._executor.submit(run)
            self._in_flight[name] = future
        wait([future], timeout=JWKS_BACKGROUND_WAIT)

    def _may_refetch(self, url: str, entry: _JwksEntry) -> bool:
        """Whether the keys are old enough to fetch again; claims the fetch if so,
        so that concurrent requests naming unknown keys make one fetch between them."""
        now = time.monotonic()
        with self._lock:
            last = max(entry.fetched_at, self._refetched_at.get(url, entry.fetched_at))
            if now - last < settings.MRA_COGNITO_JWKS_REFETCH_SECONDS:
                return False
            self._refetched_at[url] = now
            return True

    def _fetch(self, pool: PoolConfig) -> _JwksEntry:
        try:
            keys = jwks_fetch(region=pool.region, url=pool.jwks_url, timeout=JWKS_FETCH_TIMEOUT)
        except AwsError as exc:
            raise KeysUnavailable(str(exc)) from exc
        entry = _JwksEntry(keys=keys, fetched_at=time.monotonic())
        with self._lock:
            self._entries[pool.jwks_url] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._refetched_at.clear()
            self._in_flight.clear()
            self._warmed_at.clear()


jwks_cache = JwksCache()


def issuing_region(token: str) -> str | None:
    """The region named by the token's issuer, without verifying anything."""
    try:
        _, claims = _unverified_parts(token)
    except InvalidToken:
        return None
    match = _ISSUER_RE.match(str(claims.get("iss", "")))
    return match.group(1) if match else None


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise InvalidToken(f"malformed token {what}") from exc
    if not isinstance(value, dict):
        raise InvalidToken(f"the token {what} is not a JSON object")
    return value


def _unverified_parts(token: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a well-formed JWT, unverified; InvalidToken otherwise."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("not a JWT of an acceptable size")
    if not token.isascii() or token.count(".") != 2:
        raise InvalidToken("not a JWT")
    header, claims, _ = token.split(".")
    return _json_object(header, "header"), _json_object(claims, "claims")


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_shape(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """The header's `kid` once the header and the claims have the types Cognito
    issues; InvalidToken otherwise."""
    alg = header.get("alg")
    if alg != "RS256":
        shown = alg if isinstance(alg, str) else type(alg).__name__
        raise InvalidToken(f"algorithm {shown!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("token names no signing key")
    if not isinstance(claims.get("iss"), str):
        raise InvalidToken("token names no issuer")
    if "exp" not in claims:
        raise InvalidToken("token has no expiry")
    for name in _TIME_CLAIMS:
        if name in claims and not _is_integer(claims[name]):
            raise InvalidToken(f"the {name} claim is not an integer")
    if "iat" in claims and claims["iat"] > time.time() + settings.MRA_COGNITO_CLOCK_SKEW_SECONDS:
        raise InvalidToken("token was issued in the future")
    return kid


def _trusted_pool(issuer: str) -> PoolConfig:
    match = _ISSUER_RE.match(issuer)
    if not match:
        raise InvalidToken("issuer is not a Cognito user pool")
    region, pool_id = match.groups()
    if region not in (settings.MRA_PRIMARY_REGION, settings.MRA_SECONDARY_REGION):
        raise InvalidToken(f"issuer region {region} is not one of ours")
    try:
        config = pool_config(region)
    except AwsError as exc:
        raise KeysUnavailable(f"cannot reach the user pool of {region}: {exc}") from exc
    if config.pool_id != pool_id:
        raise InvalidToken("issuer is not a trusted user pool")
    return config


def verify(token: str, *, token_use: TokenUse = "access") -> dict[str, Any]:
    """Verified claims of a Cognito token of the given use, or InvalidToken."""
    header, unverified = _unverified_parts(token)
    kid = _check_shape(header, unverified)
    config = _trusted_pool(unverified["iss"])
    for region in regions():
        if region != config.region:
            jwks_cache.warm(region)
    key = jwks_cache.key(config, kid)
    try:
        claims = jwt.decode(
            token,
            jwk.construct(key, algorithm="RS256"),
            algorithms=["RS256"],
            issuer=config.issuer,
            audience=config.client_id if token_use == "id" else None,
            options={"verify_aud": token_use == "id", "verify_at_hash": False, "leeway": 0},
        )
    except ExpiredSignatureError as exc:
        raise TokenExpired("token has expired") from exc
    except (JWTError, ValueError, TypeError) as exc:
        raise InvalidToken(f"token rejected: {exc}") from exc
    if claims.get("token_use") != token_use:
        raise InvalidToken(f"an {token_use} token is required")
    if token_use == "access":
        if claims.get("client_id") != config.client_id:
            raise InvalidToken("token was issued to another client")
        _check_age(claims)
    return claims


def _check_age(claims: dict[str, Any]) -> None:
    """Refuse an access token older than MRA_ACCESS_TOKEN_MAX_AGE_SECONDS, whatever its
    `exp` says: the emulator issues hour-long tokens, and a shorter life on the site
    means a disabled or signed-out user loses access within minutes."""
    issued_at = claims.get("iat")
    if not _is_integer(issued_at):
        raise InvalidToken("token has no issue time")
    if time.time() - issued_at > settings.MRA_ACCESS_TOKEN_MAX_AGE_SECONDS:
        raise TokenExpired("token is older than this site accepts")


def user_from_claims(claims: dict[str, Any]) -> CognitoUser:
    username = claims.get("username") or claims.get("cognito:username") or ""
    match = _ISSUER_RE.match(str(claims.get("iss", "")))
    return CognitoUser(
        username=str(username),
        sub=str(claims.get("sub", "")),
        groups=tuple(claims.get("cognito:groups") or ()),
        region=match.group(1) if match else "",
    )


# A refresh token the site hands out names its pool: `REGION:TOKEN`, one per pool
# that answered at sign-in, joined by "~" (neither character occurs in a Cognito
# refresh token, which is base64url and dots).
_POOL_SEPARATOR = ":"
_TOKEN_SEPARATOR = "~"


def refresh_tokens_join(by_region: dict[str, str]) -> str:
    """One value holding each pool's refresh token with its region."""
    return _TOKEN_SEPARATOR.join(
        f"{region}{_POOL_SEPARATOR}{token}" for region, token in by_region.items() if token
    )


def refresh_tokens_split(value: str, *, access_token: str | None = None) -> dict[str, str]:
    """{region: refresh token} from a joined value. A bare Cognito refresh token
    (an earlier answer's) belongs to the access token's pool when one is given,
    else to an unknown pool (key "")."""
    trusted = regions()
    found: dict[str, str] = {}
    for part in value.split(_TOKEN_SEPARATOR) if value else ():
        region, separator, token = part.partition(_POOL_SEPARATOR)
        if not separator:
            hint = (access_token and issuing_region(access_token)) or ""
            found[hint if hint in trusted else ""] = part
        elif region in trusted and token:
            found[region] = token
    return found
