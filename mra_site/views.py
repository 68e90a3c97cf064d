import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache

from mra_site.aws.health import region_readiness
from mra_site.cache import SingleFlightCache
from mra_site.errors import ApplicationError
from mra_site.middleware import error_page

logger = logging.getLogger(__name__)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive; says nothing about AWS."""
    return JsonResponse({"status": "ok", "region": settings.MRA_REGION})


_readiness: SingleFlightCache[dict[str, str]] = SingleFlightCache()


def clear_readiness_cache() -> None:
    _readiness.clear()


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when this region's bucket, tables and user pool answer.

    The checks run at most once per MRA_READYZ_CACHE_SECONDS per process, by one
    thread: a flood of probes cannot become AWS throttling and flip the door.
    """
    region = settings.MRA_REGION
    checks = _readiness.get(
        region,
        max_age=settings.MRA_READYZ_CACHE_SECONDS,
        load=lambda: region_readiness(region),
    )
    failing = {name: reason for name, reason in checks.items() if reason != "ok"}
    body = {
        "status": "unavailable" if failing else "ok",
        "region": settings.MRA_REGION,
        "checks": checks,
    }
    if failing:
        body["detail"] = "unreachable in " + settings.MRA_REGION + ": " + ", ".join(sorted(failing))
    return JsonResponse(body, status=503 if failing else 200)


class FormExpired(ApplicationError):
    code = "csrf_failed"
    status = 403
    title = "Form expired"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(
        request,
        FormExpired(
            "This form was open too long or cookies are blocked. "
            "Go back, reload the page and try again."
        ),
    )


# Django's own answers (no route, an unexpected exception) for what DRF does not
# answer: JSON {"error", "detail"} under /api/, the error templates elsewhere.
_BARE_PAGES = {
    400: "<h1>Bad request</h1>",
    403: "<h1>Not allowed</h1>",
    404: "<h1>Not found</h1><p>There is nothing at this address.</p>",
    500: "<h1>Something went wrong</h1><p>Try again in a moment.</p>",
}


def _is_api(request: HttpRequest) -> bool:
    return request.path_info == "/api" or request.path_info.startswith("/api/")


def _api_error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _page_or_bare(status: int, render: Callable[[], HttpResponse]) -> HttpResponse:
    """The error template's page; a bare page if rendering it fails, so that an
    error handler never answers 500 in place of its own status."""
    try:
        return render()
    except Exception:
        logger.exception("rendering the %s page failed", status)
        return HttpResponse(_BARE_PAGES[status], status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(400, "invalid", "The request could not be understood.")
    return _page_or_bare(400, lambda: defaults.bad_request(request, exception))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(403, "permission_denied", "You may not do this.")
    return _page_or_bare(403, lambda: defaults.permission_denied(request, exception))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return _api_error(
            404,
            "not_found",
            f"There is no API endpoint at {request.path_info}. "
            "The endpoints are listed at /api/docs/.",
        )
    return _page_or_bare(404, lambda: defaults.page_not_found(request, exception))


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(
            500,
            "server_error",
            "The server hit an error it did not expect. Try again in a moment; "
            "if it keeps happening, the operators have the details in the logs.",
        )
    return _page_or_bare(500, lambda: defaults.server_error(request))
