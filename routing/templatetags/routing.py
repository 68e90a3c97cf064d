import json
from datetime import UTC, datetime

from django import template
from django.conf import settings
from django.http import HttpRequest

from mra_site.aws.errors import AwsError
from mra_site.middleware import served_through_door
from routing.banner import write_status
from routing.selectors import routing_state_get, routing_state_public

register = template.Library()


@register.inclusion_tag("routing/banner.html", takes_context=True)
def routing_banner(context: template.Context) -> dict:
    """The state banner, rendered from this region's cached state record."""
    serving = settings.MRA_REGION
    request = context.get("request")
    door = served_through_door(request)
    try:
        record = routing_state_get(region=serving)
    except AwsError:
        record = None
    status = write_status(record=record, serving_region=serving, door=door)
    public = None
    if record:
        # Which region wrote before a fence, so that a page opened while
        # fenced notices when the writable region then changes.
        public = {
            **routing_state_public(record=record, serving_region=serving),
            "fenced_from": record.fenced_from,
        }
    writable_url = ""
    if status.link and record and record.writable_region and request is not None:
        writable_url = context.get("continue_url") or _same_page_in(
            record.writable_region, request=request
        )
    return {
        "is_operator": bool(getattr(getattr(request, "user", None), "is_operator", False)),
        "status": status,
        "door": door,
        "writable_url": writable_url,
        "writable_region": record.writable_region if record else "",
        "serving_region": serving,
        "regions_json": json.dumps(
            {region: url for region, url in settings.MRA_REGION_URLS.items()}
        ),
        "state_json": json.dumps(public) if public else "",
    }


def _same_page_in(region: str, *, request: HttpRequest) -> str:
    """This page's address in `region`; after a refused form (a POST-only address)
    the region's gallery, for a link must never lead to a 405."""
    base = settings.MRA_REGION_URLS.get(region, "").rstrip("/")
    if not base:
        return ""
    return base + (request.get_full_path() if request.method in ("GET", "HEAD") else "/")


@register.filter
def console_time(value: object) -> str:
    """A time as "26 Nov 2026, 17:22:48 UTC": ISO strings, datetimes and epoch seconds.

    Whatever cannot be read as a time is shown as it is rather than hidden.
    """
    if value is None or value == "":
        return "–"
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if moment is None:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%-d %b %Y, %H:%M:%S UTC")
