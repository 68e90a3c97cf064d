"""Page-level answers that every view shares."""

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from .errors import ApplicationError

# The header the front door sets on what it forwards (and strips from clients).
DOOR_HEADER = "X-MRA-Door"
_through_door: ContextVar[bool] = ContextVar("through_door", default=False)


def served_through_door(request: HttpRequest | None) -> bool:
    """Whether `request` came through the front door (its header, set by the door only)."""
    return request is not None and request.headers.get(DOOR_HEADER) == "1"


def request_through_door() -> bool:
    """Whether the request being answered came through the front door."""
    return _through_door.get()


class RegionMiddleware:
    """Every answer names the region that produced it (X-MRA-Region), and the
    request's path in (front door or regional address) is known while it is served.

    First in the chain, so that static files, 404s and error pages carry it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _through_door.set(served_through_door(request))
        try:
            response = self.get_response(request)
        finally:
            _through_door.reset(token)
        response["X-MRA-Region"] = settings.MRA_REGION
        return response


class ApplicationErrorMiddleware:
    """Turns an ApplicationError a page view did not handle into the error page,
    with the error's status and headers (503 + Retry-After when AWS does not answer).

    API views never get here: DRF's exception handler answers them first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, ApplicationError):
            return None
        return error_page(request, exc)


def error_page(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    """The error page for `exc`, with its status and headers."""
    return page_render(
        request,
        "mra_site/error.html",
        {"title": exc.title, "message": exc.detail},
        status=exc.status,
        error=exc,
    )


def page_render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    error: ApplicationError | None = None,
) -> HttpResponse:
    """A page; showing `error`, it also carries the headers the error calls for (Retry-After)."""
    return HttpResponse(
        render_to_string(template, context, request),
        status=status,
        headers=error.headers() if error else None,
    )
