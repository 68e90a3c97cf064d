"""Verification of Cognito JWTs with python-jose.

Tokens are trusted only from the user pools of the two configured regions,
signed with RS256 by a key in that pool's JWKS.
"""

import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import requests
from django.conf import settings
from jose import ExpiredSignatureError, JWTError, jwk, jwt

from mra_site.aws.cognito import PoolConfig, pool_config
from mra_site.aws.errors import AwsError

from .users import CognitoUser

TokenUse = Literal["access", "id"]
_ISSUER_RE = re.compile(r"^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([\w-]+)$")
JWKS_FETCH_TIMEOUT = 3.0


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why."""


class TokenExpired(InvalidToken):
    pass


@dataclass
class _JwksEntry:
    keys: dict[str, dict[str, Any]]
    fetched_at: float


class JwksCache:
    """Each pool's signing keys, kept for MRA_COGNITO_JWKS_TTL seconds and
    fetched again once when a token names a key we do not know."""

    def __init__(self) -> None:
        self._entries: dict[str, _JwksEntry] = {}
        self._lock = threading.Lock()

    def key(self, url: str, kid: str) -> dict[str, Any]:
        entry = self._entries.get(url)
        if entry is None or time.monotonic() - entry.fetched_at > settings.MRA_COGNITO_JWKS_TTL:
            entry = self._fetch(url)
        if kid not in entry.keys:
            entry = self._fetch(url)
        if kid not in entry.keys:
            raise InvalidToken(f"unknown signing key {kid!r}")
        return entry.keys[kid]

    def _fetch(self, url: str) -> _JwksEntry:
        try:
            response = requests.get(url, timeout=JWKS_FETCH_TIMEOUT)
            response.raise_for_status()
            keys = {k["kid"]: k for k in response.json().get("keys", []) if "kid" in k}
        except (requests.RequestException, ValueError) as exc:
            raise InvalidToken(f"signing keys unavailable from {url}: {exc}") from exc
        entry = _JwksEntry(keys=keys, fetched_at=time.monotonic())
        with self._lock:
            self._entries[url] = entry
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


jwks_cache = JwksCache()


def issuing_region(token: str) -> str | None:
    """The region named by the token's issuer, without verifying anything."""
    try:
        issuer = jwt.get_unverified_claims(token).get("iss", "")
    except JWTError:
        return None
    match = _ISSUER_RE.match(str(issuer))
    return match.group(1) if match else None


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
        raise InvalidToken(f"cannot reach the user pool of {region}: {exc}") from exc
    if config.pool_id != pool_id:
        raise InvalidToken("issuer is not a trusted user pool")
    return config


def verify(token: str, *, token_use: TokenUse = "access") -> dict[str, Any]:
    """Verified claims of a Cognito token of the given use, or InvalidToken."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise InvalidToken("not a JWT")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.get_unverified_claims(token)
    except JWTError as exc:
        raise InvalidToken(f"malformed token: {exc}") from exc
    if header.get("alg") != "RS256":
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not accepted")
    kid = header.get("kid")
    if not kid:
        raise InvalidToken("token names no signing key")
    config = _trusted_pool(str(unverified.get("iss", "")))
    key = jwks_cache.key(config.jwks_url, kid)
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
    except JWTError as exc:
        raise InvalidToken(f"token rejected: {exc}") from exc
    if claims.get("token_use") != token_use:
        raise InvalidToken(f"an {token_use} token is required")
    if token_use == "access" and claims.get("client_id") != config.client_id:
        raise InvalidToken("token was issued to another client")
    return claims


def user_from_claims(claims: dict[str, Any]) -> CognitoUser:
    username = claims.get("username") or claims.get("cognito:username") or ""
    match = _ISSUER_RE.match(str(claims.get("iss", "")))
    return CognitoUser(
        username=str(username),
        sub=str(claims.get("sub", "")),
        groups=tuple(claims.get("cognito:groups") or ()),
        region=match.group(1) if match else "",
    )
