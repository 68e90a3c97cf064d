from django.conf import settings
from django.http import HttpRequest

from mra_site.middleware import served_through_door
from photos.texts import photos_script_texts
from routing.banner import banner_texts


def region(request: HttpRequest) -> dict:
    """The serving region and its peer, for the header of every page."""
    serving = settings.MRA_REGION
    return {
        "serving_region": serving,
        "serving_role": "primary" if serving == settings.MRA_PRIMARY_REGION else "secondary",
        "region_urls": settings.MRA_REGION_URLS,
        # The page's origin is the front door: it never sends the browser elsewhere.
        "through_door": served_through_door(request),
    }


def script_texts(request: HttpRequest) -> dict:
    """Every sentence the page scripts show, by script: they keep none of their own."""
    return {
        "script_texts": {
            "routing": banner_texts(
                serving_region=settings.MRA_REGION, door=served_through_door(request)
            ),
            "photos": photos_script_texts(max_bytes=settings.MRA_PHOTO_MAX_BYTES),
        }
    }
