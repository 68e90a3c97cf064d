from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from mra_site.aws.health import region_readiness
from mra_site.cache import SingleFlightCache
from mra_site.errors import ApplicationError
from mra_site.middleware import error_page


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
