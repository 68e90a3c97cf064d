import json

from django import template
from django.conf import settings

from mra_site.aws.errors import AwsError
from routing.banner import write_status
from routing.selectors import routing_state_get, routing_state_public

register = template.Library()


@register.inclusion_tag("routing/banner.html", takes_context=True)
def routing_banner(context: template.Context) -> dict:
    """The state banner, rendered from this region's cached state record."""
    serving = settings.MRA_REGION
    try:
        record = routing_state_get(region=serving)
    except AwsError:
        record = None
    status = write_status(record=record, serving_region=serving)
    public = None
    if record:
        # Which region wrote before a fence, so that a page opened while
        # fenced notices when the writable region then changes.
        public = {
            **routing_state_public(record=record, serving_region=serving),
            "fenced_from": record.fenced_from,
        }
    request = context.get("request")
    return {
        "is_operator": bool(getattr(getattr(request, "user", None), "is_operator", False)),
        "record": record,
        "status": status,
        "serving_region": serving,
        "regions_json": json.dumps(
            {region: url for region, url in settings.MRA_REGION_URLS.items()}
        ),
        "state_json": json.dumps(public) if public else "",
    }
