"""DRF authentication: Bearer access tokens for API clients, the cookie for pages."""

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from mra_site.errors import ApplicationError

from .identity import user_for_claims
from .tokens import InvalidToken, KeysUnavailable, TokenExpired, verify
from .users import CognitoUser


class AccessTokenExpired(ApplicationError, exceptions.AuthenticationFailed):
    """401 `token_expired`: the client should refresh its token and try again.

    An access token whose pool cannot be checked here (its region is down and
    this process never held its keys) is answered the same way: a refresh
    gives a token of the pool that answers."""

    code = "token_expired"
    status = 401

    def headers(self) -> dict[str, str]:
        # Set by DRF on an AuthenticationFailed before its handler runs.
        challenge = getattr(self, "auth_header", None)
        return {"WWW-Authenticate": challenge} if challenge else {}


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
        except (TokenExpired, KeysUnavailable) as exc:
            raise AccessTokenExpired(
                f"The access token has expired or cannot be checked here ({exc}): refresh it "
                "with POST /api/auth/token and a refresh_token, then try again."
            ) from exc
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(f"Invalid token: {exc}.") from exc
        user = user_for_claims(claims)
        if user is None:
            raise exceptions.AuthenticationFailed(
                "This token's user is not registered on this site: sign in again through "
                "POST /api/auth/token."
            )
        return user, token

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
