"""Where browsers fetch a photo's media from: the serving region's bucket.

URLs are presigned locally (no request to S3) or built on a configured media
domain (CloudFront on AWS), so listing photos costs no call per photo.
"""

from django.conf import settings
from django.templatetags.static import static

from mra_site.aws import s3
from mra_site.resources import media_bucket

from .images import thumbnail_size
from .records import Photo

PLACEHOLDER = "img/photo-pending.svg"


def media_url(*, key: str, region: str | None = None) -> str:
    region = region or settings.MRA_REGION
    domain = settings.MRA_MEDIA_DOMAIN.rstrip("/")
    if domain:
        return f"{domain}/{key}"
    return s3.presigned_get_url(
        region=region,
        bucket=media_bucket(region),
        key=key,
        expires_in=settings.MRA_PHOTO_URL_EXPIRY,
    )


def placeholder_url() -> str:
    return static(PLACEHOLDER)


def photo_media_arrived(*, photo: Photo, region: str | None = None) -> bool:
    """Whether the region's bucket holds the photo's media yet.

    The region that accepted the upload wrote the media before the metadata,
    so only a replica (S3 and DynamoDB replicate independently) needs to look.
    """
    region = region or settings.MRA_REGION
    if photo.media_region == region:
        return True
    return s3.object_exists(region=region, bucket=media_bucket(region), key=photo.original_key)


def display_url(photo: Photo, *, region: str | None = None) -> str:
    """The display size's URL; the original's for a photo that has none yet."""
    return media_url(key=photo.display_key or photo.original_key, region=region)


def photo_srcset(photo: Photo, *, region: str | None = None) -> str:
    """`srcset` of the thumbnail and the display size, each at its own width, so
    a browser picks what its screen needs and never the original of a photo
    that has a display size (one stored before display sizes offers its original
    until `manage.py photos_renditions` makes one)."""
    thumb_width, _height = thumbnail_size(photo.width, photo.height)
    sources = [f"{media_url(key=photo.thumbnail_key, region=region)} {thumb_width}w"]
    large_width = photo.display_width if photo.display_key else photo.width
    if large_width > thumb_width:
        sources.append(f"{display_url(photo, region=region)} {large_width}w")
    return ", ".join(sources)
