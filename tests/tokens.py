"""Tokens signed like the emulated pools sign them, with claims of our choosing."""

import base64
import functools
import json
import time
from typing import Any

from jose import jwk, jwt
from moto.utilities.utils import load_resource

from mra_site.aws.cognito import pool_config

# The emulator signs every pool's tokens with this key (kid "dummy").
EMULATOR_PRIVATE_JWK: dict[str, Any] = load_resource("cognitoidp/resources/jwks-private.json")
EMULATOR_KID = "dummy"


@functools.cache
def emulator_key() -> Any:
    """The emulator's private key, built once: building an RSA private key
    checks it, which costs about a tenth of a second."""
    return jwk.construct(EMULATOR_PRIVATE_JWK, algorithm="RS256")


def claims_for(region: str, *, token_use: str = "access", **overrides: Any) -> dict[str, Any]:
    config = pool_config(region)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": config.issuer,
        "sub": "00000000-0000-0000-0000-000000000001",
        "token_use": token_use,
        "iat": now,
        "auth_time": now,
        "exp": now + 600,
        "jti": "test",
    }
    if token_use == "access":
        claims.update(client_id=config.client_id, username="mallory")
    else:
        claims.update(aud=config.client_id, **{"cognito:username": "mallory"})
    claims.update(overrides)
    return claims


def sign(
    claims: dict[str, Any],
    *,
    key: Any = None,
    algorithm: str = "RS256",
    kid: str | None = EMULATOR_KID,
) -> str:
    headers = {"kid": kid} if kid else {}
    if key is None and algorithm == "RS256":
        key = emulator_key()
    return jwt.encode(claims, key or EMULATOR_PRIVATE_JWK, algorithm=algorithm, headers=headers)


def unsigned(claims: dict[str, Any]) -> str:
    """An `alg: none` token."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'kid': EMULATOR_KID})}.{part(claims)}."
