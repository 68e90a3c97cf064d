from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from mra_site.aws.health import region_readiness


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive; says nothing about AWS."""
    return JsonResponse({"status": "ok", "region": settings.MRA_REGION})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when this region's bucket, tables and user pool answer."""
    checks = region_readiness(settings.MRA_REGION)
    failing = {name: reason for name, reason in checks.items() if reason != "ok"}
    body = {
        "status": "unavailable" if failing else "ok",
        "region": settings.MRA_REGION,
        "checks": checks,
    }
    if failing:
        body["detail"] = "unreachable in " + settings.MRA_REGION + ": " + ", ".join(sorted(failing))
    return JsonResponse(body, status=503 if failing else 200)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(
        request,
        "mra_site/error.html",
        {
            "title": "Form expired",
            "message": (
                "This form was open too long or cookies are blocked. "
                "Go back, reload the page and try again."
            ),
        },
        status=403,
    )
