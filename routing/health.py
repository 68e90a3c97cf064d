"""GET /writablez: whether this region takes writes now, for the front door's
health checks (HAProxy locally, Route 53 on AWS)."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from .selectors import routing_writable_status


@never_cache
def writablez(request: HttpRequest) -> JsonResponse:
    """200 when this region takes writes now, else 503; the same fields either way.

    No authentication and nothing beyond the routing state's public fields; it
    reads the write gate's cached state, so polling it costs AWS at most one
    read per process per MRA_STATE_CACHE_SECONDS.
    """
    status = routing_writable_status(region=settings.MRA_REGION)
    return JsonResponse(status.as_dict(), status=200 if status.writable else 503)
