"""The browser's token cookies: HttpOnly, SameSite=Lax, Secure unless DEBUG, for
MRA_COOKIE_DOMAIN (the host users use) when it is set."""

from django.conf import settings
from django.http import HttpResponse

from mra_site.aws.cognito import Tokens

ACCESS_COOKIE = "mra_access"
REFRESH_COOKIE = "mra_refresh"
REFRESH_MAX_AGE = 30 * 24 * 3600


def set_token_cookies(response: HttpResponse, tokens: Tokens) -> None:
    common = {
        "httponly": True,
        "samesite": "Lax",
        "secure": not settings.DEBUG,
        "path": "/",
        "domain": settings.MRA_COOKIE_DOMAIN or None,
    }
    # The access cookie outlives the token so that an expired token can be
    # recognised and refreshed instead of silently signing the user out.
    response.set_cookie(ACCESS_COOKIE, tokens.access_token, max_age=REFRESH_MAX_AGE, **common)
    if tokens.refresh_token:
        response.set_cookie(REFRESH_COOKIE, tokens.refresh_token, max_age=REFRESH_MAX_AGE, **common)


def clear_token_cookies(response: HttpResponse) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(
            name, path="/", domain=settings.MRA_COOKIE_DOMAIN or None, samesite="Lax"
        )
