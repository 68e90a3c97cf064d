"""DRF authentication: Bearer access tokens for API clients, the cookie for pages."""

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .tokens import InvalidToken, user_from_claims, verify
from .users import CognitoUser


class CognitoBearerAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[CognitoUser, str] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return self._from_cookie(request)
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        if not token:
            raise exceptions.AuthenticationFailed("The Bearer token is empty.")
        try:
            claims = verify(token, token_use="access")
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(f"Invalid token: {exc}.") from exc
        return user_from_claims(claims), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="mra"'

    def _from_cookie(self, request: Request) -> tuple[CognitoUser, None] | None:
        user = getattr(request._request, "user", None)
        if not isinstance(user, CognitoUser):
            return None
        # A cookie travels with every request the browser makes, so writes
        # authenticated by it need the CSRF token, as Django's sessions do.
        authentication.SessionAuthentication().enforce_csrf(request)
        return user, None
