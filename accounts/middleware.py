"""Signs browsers in from their token cookies, refreshing an expired access token."""

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from mra_site.aws.cognito import Tokens
from mra_site.aws.errors import AwsError

from . import services
from .cookies import ACCESS_COOKIE, REFRESH_COOKIE, clear_token_cookies, set_token_cookies
from .tokens import InvalidToken, TokenExpired, user_from_claims, verify
from .users import AnonymousUser

logger = logging.getLogger(__name__)

# Probes answer from the process alone: a cookie (even a broken one) must not
# cost them a token check or a refresh.
COOKIELESS_PATHS = frozenset({"/healthz", "/readyz", "/writablez"})


class CognitoCookieMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refreshed: Tokens | None = None
        clear = False
        request.user = AnonymousUser()
        if request.path in COOKIELESS_PATHS:
            return self.get_response(request)
        access = request.COOKIES.get(ACCESS_COOKIE)
        refresh_token = request.COOKIES.get(REFRESH_COOKIE)
        if access:
            try:
                request.user = user_from_claims(verify(access))
            except TokenExpired:
                refreshed, clear = self._refresh(request, access, refresh_token)
            except InvalidToken as exc:
                logger.info("ignoring token cookie: %s", exc)
                clear = True
        elif refresh_token:
            refreshed, clear = self._refresh(request, None, refresh_token)
        response = self.get_response(request)
        if refreshed and not getattr(response, "_mra_signed_out", False):
            set_token_cookies(response, refreshed)
        elif clear and not getattr(response, "_mra_signed_in", False):
            clear_token_cookies(response)
        return response

    def _refresh(
        self, request: HttpRequest, access: str | None, refresh_token: str | None
    ) -> tuple[Tokens | None, bool]:
        if not refresh_token:
            return None, True
        try:
            tokens = services.tokens_refresh(refresh_token=refresh_token, expired_access=access)
            request.user = user_from_claims(verify(tokens.access_token))
        except (AwsError, InvalidToken) as exc:
            logger.info("could not refresh the session: %s", exc)
            return None, True
        return tokens, False
