"""The browser's token cookies: HttpOnly, SameSite=Lax, Secure unless DEBUG, for
MRA_COOKIE_DOMAIN (the host users use) when it is set.

Sign-in keeps a refresh token for each pool that answered, one cookie per pool
(`mra_refresh_REGION`): a Cognito refresh token is about 2 KB on AWS, and two
would not fit one cookie's 4 KB.
"""

from collections.abc import Mapping

from django.conf import settings
from django.http import HttpResponse

from mra_site.aws.clients import regions
from mra_site.aws.cognito import Tokens

from .tokens import refresh_tokens_join, refresh_tokens_split

ACCESS_COOKIE = "mra_access"
# The one refresh cookie of earlier versions, whose pool is the access token's.
REFRESH_COOKIE = "mra_refresh"
REFRESH_MAX_AGE = 30 * 24 * 3600


def refresh_cookie(region: str) -> str:
    return f"{REFRESH_COOKIE}_{region}"


def _common() -> dict:
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": not settings.DEBUG,
        "path": "/",
        "domain": settings.MRA_COOKIE_DOMAIN or None,
    }


def set_token_cookies(response: HttpResponse, tokens: Tokens) -> None:
    common = _common()
    # The access cookie outlives the token so that an expired token can be
    # recognised and refreshed instead of silently signing the user out.
    response.set_cookie(ACCESS_COOKIE, tokens.access_token, max_age=REFRESH_MAX_AGE, **common)
    for region, token in refresh_tokens_split(
        tokens.refresh_token, access_token=tokens.access_token
    ).items():
        region = region or settings.MRA_REGION
        response.set_cookie(refresh_cookie(region), token, max_age=REFRESH_MAX_AGE, **common)


def refresh_tokens_from_cookies(cookies: Mapping[str, str]) -> str:
    """The browser's refresh tokens, every pool's, as one value for the services
    (empty when there is none)."""
    by_region = {region: cookies.get(refresh_cookie(region), "") for region in regions()}
    joined = refresh_tokens_join({r: t for r, t in by_region.items() if t})
    legacy = cookies.get(REFRESH_COOKIE, "")
    return joined or legacy


def clear_token_cookies(response: HttpResponse) -> None:
    names = (ACCESS_COOKIE, REFRESH_COOKIE, *(refresh_cookie(r) for r in regions()))
    for name in names:
        response.delete_cookie(
            name, path="/", domain=settings.MRA_COOKIE_DOMAIN or None, samesite="Lax"
        )
