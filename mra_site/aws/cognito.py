"""Cognito user pools: discovery by name, sign-up, sign-in and token refresh."""

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings

from .clients import aws_call, client, endpoint_for, region_breaker
from .errors import AuthFailed, AwsError, InvalidRequest, RegionUnavailable, ResourceMissing

if TYPE_CHECKING:
    from types_boto3_cognito_idp.literals import AuthFlowTypeType
    from types_boto3_cognito_idp.type_defs import InitiateAuthResponseTypeDef


@dataclass(frozen=True)
class PoolConfig:
    region: str
    pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        # Cognito's issuer is AWS-style even when an emulator serves the pool.
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    @property
    def jwks_url(self) -> str:
        configured = settings.MRA_COGNITO_JWKS_URLS.get(self.region)
        if configured:
            return configured
        endpoint = endpoint_for(self.region)
        base = endpoint.rstrip("/") if endpoint else self.issuer
        if endpoint:
            return f"{base}/{self.pool_id}/.well-known/jwks.json"
        return f"{base}/.well-known/jwks.json"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int


_pool_cache: dict[tuple[str, str], PoolConfig] = {}
_pool_lock = threading.Lock()


def find_user_pool(*, region: str) -> str | None:
    """The id of the pool named MRA_COGNITO_POOL_NAME in `region`, if any."""
    idp = client("cognito-idp", region)
    with aws_call(region, "list user pools"):
        for page in idp.get_paginator("list_user_pools").paginate(
            PaginationConfig={"PageSize": 60}
        ):
            for pool in page.get("UserPools", []):
                if pool["Name"] == settings.MRA_COGNITO_POOL_NAME:
                    return pool["Id"]
    return None


def find_pool_client(*, region: str, pool_id: str) -> str | None:
    idp = client("cognito-idp", region)
    with aws_call(region, "list user pool clients"):
        for page in idp.get_paginator("list_user_pool_clients").paginate(
            UserPoolId=pool_id, PaginationConfig={"PageSize": 60}
        ):
            for app_client in page.get("UserPoolClients", []):
                if app_client["ClientName"] == settings.MRA_COGNITO_CLIENT_NAME:
                    return app_client["ClientId"]
    return None


def pool_config(region: str) -> PoolConfig:
    """The region's pool and app client: from settings, else looked up once by name."""
    cache_key = (region, endpoint_for(region))
    cached = _pool_cache.get(cache_key)
    if cached:
        return cached
    pool_id = settings.MRA_COGNITO_POOL_IDS.get(region) or find_user_pool(region=region)
    if not pool_id:
        raise ResourceMissing(
            f"no Cognito user pool named {settings.MRA_COGNITO_POOL_NAME!r} in {region}: "
            "run `python manage.py mra_bootstrap`",
            region=region,
        )
    client_id = settings.MRA_COGNITO_CLIENT_IDS.get(region) or find_pool_client(
        region=region, pool_id=pool_id
    )
    if not client_id:
        raise ResourceMissing(
            f"no app client {settings.MRA_COGNITO_CLIENT_NAME!r} in pool {pool_id} ({region}): "
            "run `python manage.py mra_bootstrap`",
            region=region,
        )
    config = PoolConfig(region=region, pool_id=pool_id, client_id=client_id)
    with _pool_lock:
        _pool_cache[cache_key] = config
    return config


def pool_check(*, region: str) -> None:
    """Raise an AwsError unless the region's user pool answers."""
    config = pool_config(region)
    with aws_call(region, f"describe user pool {config.pool_id}"):
        client("cognito-idp", region).describe_user_pool(UserPoolId=config.pool_id)


def clear_pool_cache() -> None:
    with _pool_lock:
        _pool_cache.clear()


def _tokens(result: Mapping[str, Any], refresh_token: str | None = None) -> Tokens:
    auth = result.get("AuthenticationResult")
    if not auth:
        raise AuthFailed(
            f"sign-in needs a further step ({result.get('ChallengeName', 'unknown challenge')})"
        )
    return Tokens(
        access_token=auth["AccessToken"],
        id_token=auth["IdToken"],
        refresh_token=auth.get("RefreshToken") or refresh_token or "",
        expires_in=int(auth.get("ExpiresIn", 3600)),
    )


def sign_in(*, region: str, username: str, password: str) -> Tokens:
    """USER_PASSWORD_AUTH against the region's pool."""
    result = _initiate_auth(
        region, "USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password}, "sign in"
    )
    return _tokens(result)


def refresh(*, region: str, refresh_token: str) -> Tokens:
    result = _initiate_auth(
        region, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token}, "refresh tokens"
    )
    return _tokens(result, refresh_token=refresh_token)


def _initiate_auth(
    region: str, flow: "AuthFlowTypeType", parameters: dict[str, str], action: str
) -> "InitiateAuthResponseTypeDef":
    with aws_call(region, action):
        return client("cognito-idp", region).initiate_auth(
            ClientId=pool_config(region).client_id, AuthFlow=flow, AuthParameters=parameters
        )


def revoke(*, region: str, refresh_token: str) -> None:
    config = pool_config(region)
    idp = client("cognito-idp", region)
    with aws_call(region, "revoke token"):
        idp.revoke_token(Token=refresh_token, ClientId=config.client_id)


@dataclass(frozen=True)
class SignUp:
    confirmed: bool
    # Where Cognito sent the confirmation code, masked ("c***@e***"); "" if none.
    destination: str
    # The user's id in this pool.
    sub: str = ""


def sign_up(*, region: str, username: str, password: str, email: str) -> SignUp:
    """Register a user through the public SignUp API.

    With AutoVerifiedAttributes [email] the pool leaves the user UNCONFIRMED
    and e-mails a code for confirm_sign_up."""
    idp = client("cognito-idp", region)
    with aws_call(region, "sign up"):
        result = idp.sign_up(
            ClientId=pool_config(region).client_id,
            Username=username,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
    return SignUp(
        confirmed=result["UserConfirmed"],
        destination=result.get("CodeDeliveryDetails", {}).get("Destination", ""),
        sub=result.get("UserSub", ""),
    )


def admin_confirm_sign_up(*, region: str, username: str) -> None:
    """Confirm a user without a code (local stacks only: see MRA_COGNITO_AUTO_CONFIRM)."""
    with aws_call(region, "confirm sign-up"):
        client("cognito-idp", region).admin_confirm_sign_up(
            UserPoolId=pool_config(region).pool_id, Username=username
        )


def confirm_sign_up(*, region: str, username: str, code: str) -> None:
    """Confirm a user with the code Cognito e-mailed at sign-up."""
    with aws_call(region, "confirm sign-up"):
        client("cognito-idp", region).confirm_sign_up(
            ClientId=pool_config(region).client_id, Username=username, ConfirmationCode=code
        )


def resend_confirmation_code(*, region: str, username: str) -> str:
    """E-mail a new confirmation code; returns where it went, masked."""
    with aws_call(region, "resend confirmation code"):
        result = client("cognito-idp", region).resend_confirmation_code(
            ClientId=pool_config(region).client_id, Username=username
        )
    return result.get("CodeDeliveryDetails", {}).get("Destination", "")


def user_email(*, region: str, username: str) -> str:
    """The user's e-mail address in the region's pool ("" when it has none)."""
    with aws_call(region, "get user"):
        attributes = client("cognito-idp", region).admin_get_user(
            UserPoolId=pool_config(region).pool_id, Username=username
        )["UserAttributes"]
    return next((a["Value"] for a in attributes if a["Name"] == "email"), "")


def user_sub(*, region: str, username: str) -> str | None:
    """The user's `sub` in the region's pool, None when the pool has no such user."""
    config = pool_config(region)
    try:
        with aws_call(region, "get user"):
            attributes = client("cognito-idp", region).admin_get_user(
                UserPoolId=config.pool_id, Username=username
            )["UserAttributes"]
    except (ResourceMissing, AuthFailed):
        return None
    return next((a["Value"] for a in attributes if a["Name"] == "sub"), None)


@dataclass(frozen=True)
class PoolUser:
    username: str
    sub: str
    created: str  # ISO 8601, for ordering


def users_list(*, region: str) -> list[PoolUser]:
    """Every user of the region's pool, oldest first."""
    config = pool_config(region)
    found = []
    with aws_call(region, "list users"):
        for page in (
            client("cognito-idp", region)
            .get_paginator("list_users")
            .paginate(UserPoolId=config.pool_id, PaginationConfig={"PageSize": 60})
        ):
            for user in page.get("Users", []):
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                created = user.get("UserCreateDate")
                found.append(
                    PoolUser(
                        username=user["Username"],
                        sub=attributes.get("sub", ""),
                        created=created.isoformat() if created else "",
                    )
                )
    return sorted(found, key=lambda u: (u.created, u.username))


def user_exists(*, region: str, username: str) -> bool:
    config = pool_config(region)
    idp = client("cognito-idp", region)
    try:
        with aws_call(region, "get user"):
            idp.admin_get_user(UserPoolId=config.pool_id, Username=username)
    except (ResourceMissing, AuthFailed):
        return False
    return True


def admin_ensure_user(
    *, region: str, username: str, password: str, email: str, groups: tuple[str, ...] = ()
) -> bool:
    """Create a confirmed user with a permanent password unless it exists.

    Returns True when the user was created.
    """
    config = pool_config(region)
    idp = client("cognito-idp", region)
    created = False
    if not user_exists(region=region, username=username):
        with aws_call(region, "create user"):
            idp.admin_create_user(
                UserPoolId=config.pool_id,
                Username=username,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
            idp.admin_set_user_password(
                UserPoolId=config.pool_id, Username=username, Password=password, Permanent=True
            )
        created = True
    with aws_call(region, "list user groups"):
        current = {
            g["GroupName"]
            for g in idp.admin_list_groups_for_user(UserPoolId=config.pool_id, Username=username)[
                "Groups"
            ]
        }
        for group in groups:
            if group not in current:
                idp.admin_add_user_to_group(
                    UserPoolId=config.pool_id, Username=username, GroupName=group
                )
                created = True
    return created


def validate_password(password: str) -> None:
    """The pool's password policy, checked before any region is asked."""
    problems = []
    if len(password) < 10:
        problems.append("at least 10 characters")
    if not any(c.isupper() for c in password):
        problems.append("an upper-case letter")
    if not any(c.islower() for c in password):
        problems.append("a lower-case letter")
    if not any(c.isdigit() for c in password):
        problems.append("a digit")
    if problems:
        raise InvalidRequest(
            "Choose a stronger password: it needs " + ", ".join(problems) + ".",
            aws_code="InvalidPasswordException",
        )


def jwks_fetch(*, region: str, url: str, timeout: float) -> dict[str, dict[str, Any]]:
    """The signing keys a pool publishes at `url`, by `kid`.

    The JWKS endpoint is a public HTTPS address of the pool's region, so it
    goes down with the region: the region breaker answers at once for a region
    that did not answer moments ago, and a fetch that times out opens it.
    """
    region_breaker.check(region, "fetch signing keys")
    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
        body = response.json()
    except (requests.ConnectionError, requests.Timeout) as exc:
        region_breaker.failed(region)
        raise RegionUnavailable(
            f"signing keys of {region}'s pool: {url} did not answer ({exc})", region=region
        ) from exc
    except (requests.RequestException, ValueError) as exc:
        raise AwsError(f"signing keys of {region}'s pool from {url}: {exc}", region=region) from exc
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list):
        raise AwsError(f"signing keys of {region}'s pool from {url}: no key list", region=region)
    region_breaker.succeeded(region)
    return {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
