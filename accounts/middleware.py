"""Signs browsers in from their token cookies, refreshing an access token that
expired, grew older than the site accepts, or whose pool cannot be checked here."""

import logging
from collections.abc import Callable

from django.contrib import messages
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from mra_site.aws.cognito import Tokens
from mra_site.aws.errors import AwsError

from . import services
from .cookies import (
    ACCESS_COOKIE,
    clear_token_cookies,
    refresh_tokens_from_cookies,
    set_token_cookies,
)
from .identity import user_for_claims
from .tokens import InvalidToken, KeysUnavailable, TokenExpired, verify
from .users import AnonymousUser, CognitoUser

logger = logging.getLogger(__name__)

# Probes answer from the process alone: a cookie (even a broken one) must not
# cost them a token check or a refresh.
COOKIELESS_PATHS = frozenset({"/healthz", "/readyz", "/writablez"})
SESSION_ENDED = "Your session has ended. Sign in again to continue."


class CognitoCookieMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refreshed: Tokens | None = None
        clear = ended = False
        request.user = AnonymousUser()
        if request.path in COOKIELESS_PATHS:
            return self.get_response(request)
        access = request.COOKIES.get(ACCESS_COOKIE)
        refresh_token = refresh_tokens_from_cookies(request.COOKIES)
        if access:
            try:
                request.user = _registered(verify(access))
            except (TokenExpired, KeysUnavailable) as exc:
                logger.info("refreshing the session: %s", exc)
                refreshed, clear = self._refresh(request, access, refresh_token)
                ended = clear
            except InvalidToken as exc:
                logger.info("ignoring token cookie: %s", exc)
                clear = True
            except AwsError as exc:
                # The registry could not be read: signed out for this request only.
                logger.warning("user registry unavailable: %s", exc)
        elif refresh_token:
            refreshed, clear = self._refresh(request, None, refresh_token)
            ended = clear
        if ended and _sign_in_again(request):
            return _to_sign_in(request)
        response = self.get_response(request)
        if refreshed and not getattr(response, "_mra_signed_out", False):
            set_token_cookies(response, refreshed)
        elif clear and not getattr(response, "_mra_signed_in", False):
            clear_token_cookies(response)
        return response

    def _refresh(
        self, request: HttpRequest, access: str | None, refresh_token: str
    ) -> tuple[Tokens | None, bool]:
        if not refresh_token:
            return None, True
        try:
            tokens = services.tokens_refresh(refresh_token=refresh_token, expired_access=access)
            request.user = _registered(verify(tokens.access_token))
        except (AwsError, InvalidToken) as exc:
            logger.info("could not refresh the session: %s", exc)
            return None, True
        return tokens, False


def _registered(claims: dict) -> CognitoUser:
    user = user_for_claims(claims)
    if user is None:
        raise InvalidToken("the token's pool and sub are not the ones registered for its user")
    return user


def _sign_in_again(request: HttpRequest) -> bool:
    """Whether a session that could not be refreshed sends the browser to sign in:
    a page it navigates to, not the API or a form's post (which answer as for
    anyone signed out), nor the sign-in page itself."""
    return (
        request.method in ("GET", "HEAD")
        and not request.path.startswith("/api/")
        and request.path != reverse("accounts:login")
    )


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    """The sign-in page, with a message saying why, and the token cookies cleared."""
    response = HttpResponseRedirect(
        f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}"
    )
    # The message middleware comes after this one: its storage is written here.
    storage = default_storage(request)
    storage.add(messages.INFO, SESSION_ENDED)
    storage.update(response)
    clear_token_cookies(response)
    return response
