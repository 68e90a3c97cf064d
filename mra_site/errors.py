"""One error model for everything a user, a client or an operator can be told.

Every domain error derives from `ApplicationError`: a machine-readable
`code`, a `detail` a person can act on, the HTTP `status`, optional `extra`
fields for the body and an optional `Retry-After`. Each surface has one
handler that turns it into the documented answer, so views never map errors
by hand:

- the API: `mra_site.api.exception_handler` answers JSON
  `{"error": code, "detail": detail, **extra}`;
- pages: `mra_site.middleware.ApplicationErrorMiddleware` renders the error
  page with the same status and headers.

A page that re-renders its form with the error placed under a field (upload,
comment, sign-in) catches the error itself and reads `field` and `status`
from it; it still answers with the error's status.
"""

from typing import Any


class ApplicationError(Exception):
    """Base of every error the site answers with; subclasses set `code` and `status`."""

    code: str = "invalid"
    status: int = 400
    title: str = "Not possible"
    retry_after: int | None = None
    field: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        retry_after: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after
        if field is not None:
            self.field = field
        self.extra: dict[str, Any] = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer: {"error", "detail", **extra}."""
        return {"error": self.code, "detail": self.detail, **self.extra}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class Unavailable(ApplicationError):
    """Something the request needs did not answer; the client should retry later."""

    code = "unavailable"
    status = 503
    title = "Temporarily unavailable"
    retry_after = 5
