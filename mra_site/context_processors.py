from django.conf import settings
from django.http import HttpRequest


def region(request: HttpRequest) -> dict:
    """The serving region and its peer, for the header of every page."""
    serving = settings.MRA_REGION
    return {
        "serving_region": serving,
        "serving_role": "primary" if serving == settings.MRA_PRIMARY_REGION else "secondary",
        "region_urls": settings.MRA_REGION_URLS,
    }
