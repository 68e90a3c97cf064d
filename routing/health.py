"""GET /writablez: whether this region takes writes now, for the front door's
health checks (HAProxy locally, Route 53 on AWS); and the console's probes of
each region's /readyz."""

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import requests
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from mra_site.aws.clients import regions

from .selectors import routing_writable_status


@never_cache
def writablez(request: HttpRequest) -> JsonResponse:
    """200 when this region takes writes now, else 503; the same fields either way.

    No authentication and nothing beyond the routing state's public fields; it
    reads the write gate's cached state, so polling it costs AWS at most one
    read per process per MRA_STATE_CACHE_SECONDS, and while fenced (a transition
    under way) one per FENCED_MAX_AGE_SECONDS.
    """
    status = routing_writable_status(region=settings.MRA_REGION)
    return JsonResponse(status.as_dict(), status=200 if status.writable else 503)


@dataclass(frozen=True)
class RegionHealth:
    """One region's site as the console's probe found it: ready, or what failed."""

    region: str
    url: str
    ready: bool
    detail: str


def region_health(*, region: str, timeout: float | None = None) -> RegionHealth:
    """The region's site's /readyz, fetched with a short timeout."""
    timeout = settings.MRA_HEALTH_TIMEOUT_SECONDS if timeout is None else timeout
    url = settings.MRA_REGION_URLS.get(region, "")
    if not url:
        return RegionHealth(region, url, False, "no site URL configured (MRA_REGION_URLS)")
    try:
        response = requests.get(f"{url.rstrip('/')}/readyz", timeout=timeout)
    except requests.Timeout:
        return RegionHealth(region, url, False, _no_answer(url, timeout))
    except requests.ConnectionError:
        return RegionHealth(
            region, url, False, f"{url} refused the connection: its site is not running"
        )
    except requests.RequestException as exc:
        return RegionHealth(region, url, False, f"{url} did not answer ({type(exc).__name__})")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200:
        return RegionHealth(region, url, True, "ready")
    detail = body.get("detail") if isinstance(body, dict) else None
    return RegionHealth(region, url, False, detail or f"/readyz answered {response.status_code}")


def _no_answer(url: str, timeout: float) -> str:
    return f"not answering: {url}/readyz gave no answer within {timeout:g} s"


def region_probes(*, timeout: float | None = None) -> dict[str, RegionHealth]:
    """Every region's /readyz at once; whatever has not answered within `timeout`
    is reported as not answering, so one frozen region never holds up the other."""
    timeout = settings.MRA_HEALTH_TIMEOUT_SECONDS if timeout is None else timeout
    names = regions()
    pool = ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="probe")
    futures = {name: pool.submit(region_health, region=name, timeout=timeout) for name in names}
    # requests' timeout bounds each socket wait, not the whole exchange: a site
    # answering a byte at a time could hold a probe longer, so the deadline is ours.
    wait(futures.values(), timeout=timeout + 0.25)
    pool.shutdown(wait=False, cancel_futures=True)
    results = {}
    for name, future in futures.items():
        if future.done():
            results[name] = future.result()
        else:
            url = settings.MRA_REGION_URLS.get(name, "")
            results[name] = RegionHealth(name, url, False, _no_answer(url, timeout))
    return results
