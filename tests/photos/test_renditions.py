"""The display size: made on upload (longest side 1600 px, WebP, never upscaled),
served instead of the original, backfilled by `manage.py photos_renditions`,
removed with the photo."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from PIL import Image

from mra_site.aws import s3
from mra_site.aws.clients import dynamodb_table
from mra_site.resources import media_bucket
from photos import services
from photos.images import display_size, image_process, thumbnail_size
from photos.media import photo_srcset
from photos.records import META, Photo, display_key, media_prefix, photo_pk, time_ago
from photos.selectors import photo_get
from photos.serializers import photo_data
from photos.views import detail_sizes
from tests.conftest import PRIMARY
from tests.photos.conftest import image_bytes, upload_file


def _decoded(data: bytes) -> tuple[str | None, tuple[int, int]]:
    image = Image.open(io.BytesIO(data))
    return image.format, image.size


def test_the_display_size_is_the_longest_side_1600_and_never_upscaled():
    # Decoded and resampled in the upload test below; the sizes alone here.
    assert display_size(1080, 1920) == (900, 1600)
    assert display_size(4000, 3000) == (1600, 1200)
    assert display_size(1600, 200) == (1600, 200)
    assert thumbnail_size(1080, 1920) == (270, 480)

    small = image_process(data=image_bytes("PNG", size=(640, 360)), max_pixels=10**8)
    assert _decoded(small.display.data) == ("WEBP", (640, 360))
    assert (small.display.width, small.display.height) == (640, 360)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "just now"),
        (59, "just now"),
        (60, "1 minute ago"),
        (3 * 60 + 59, "3 minutes ago"),
        (3600, "1 hour ago"),
        (26 * 3600, "1 day ago"),
        (45 * 86400, "1 month ago"),
        (800 * 86400, "2 years ago"),
    ],
)
def test_relative_times(seconds, text):
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert time_ago(now - timedelta(seconds=seconds), now) == text


def test_an_upload_stores_its_display_size_which_pages_and_the_api_use_and_delete_removes(aws):
    photo = services.photo_create(
        owner="alice",
        owner_id="id-alice",
        title="Tall",
        upload=upload_file(image_bytes(size=(1080, 1920))),
    )
    bucket = media_bucket(PRIMARY)
    assert photo.display_key == display_key(photo.id) == f"photos/{photo.id}/display.webp"
    stored = s3.object_get(region=PRIMARY, bucket=bucket, key=photo.display_key)
    assert stored is not None and stored.content_type == "image/webp"
    assert _decoded(stored.body) == ("WEBP", (900, 1600))
    thumbnail = s3.object_get(region=PRIMARY, bucket=bucket, key=photo.thumbnail_key)
    assert thumbnail is not None and _decoded(thumbnail.body) == ("WEBP", (270, 480))
    recorded = photo_get(photo_id=photo.id)
    assert _display(recorded) == (photo.display_key, 900, 1600)

    data = photo_data(recorded)
    assert photo.display_key in data["display_url"]
    assert (data["display_width"], data["display_height"]) == (900, 1600)
    # The pages offer the thumbnail and the display size, never the original.
    srcset = photo_srcset(recorded)
    assert photo.thumbnail_key in srcset and photo.display_key in srcset
    assert srcset.endswith(" 900w") and photo.original_key not in srcset
    assert detail_sizes(recorded) == (
        "(max-width: 820px) min(100vw, 45.0vh), min(64vw, 1100px, 45.0vh)"
    )

    services.photo_delete(photo_id=photo.id, owner_id="id-alice")
    left = s3.object_versions(region=PRIMARY, bucket=bucket, prefix=media_prefix(photo.id))
    assert [v.key for v in left if not v.delete_marker] == []


def _display(photo: Photo) -> tuple[str, int, int]:
    return photo.display_key, photo.display_width, photo.display_height


def _forget_display_size(photo_id: str, key: str) -> None:
    """As a photo stored before display sizes existed: no attributes, no object."""
    dynamodb_table(PRIMARY, f"{settings.MRA_TABLE_PREFIX}photos").update_item(
        Key={"pk": photo_pk(photo_id), "sk": META},
        UpdateExpression="REMOVE display_key, display_width, display_height",
    )
    s3.objects_purge(region=PRIMARY, bucket=media_bucket(PRIMARY), keys=[key])


def test_photos_renditions_backfills_idempotently_with_the_upload_code_path(aws):
    old, new = (
        services.photo_create(
            owner="alice",
            owner_id="id-alice",
            title=title,
            upload=upload_file(image_bytes(size=size)),
        )
        for title, size in (("old", (640, 320)), ("new", (64, 48)))
    )
    _forget_display_size(old.id, old.display_key)
    before = photo_get(photo_id=old.id)
    assert (
        before.display_key == "" and photo_data(before)["display_url"] == photo_data(before)["url"]
    )

    out = io.StringIO()
    call_command("photos_renditions", "--dry-run", region=PRIMARY, stdout=out)
    assert "would make 1 display sizes; 1 photos had one" in out.getvalue()
    assert photo_get(photo_id=old.id).display_key == ""

    out = io.StringIO()
    call_command("photos_renditions", region=PRIMARY, stdout=out)
    assert "made 1 display sizes; 1 photos had one" in out.getvalue()
    assert _display(photo_get(photo_id=old.id)) == (old.display_key, 640, 320)
    bucket = media_bucket(PRIMARY)
    stored = s3.object_get(region=PRIMARY, bucket=bucket, key=old.display_key)
    assert stored is not None and _decoded(stored.body) == ("WEBP", (640, 320))

    def versions() -> list[str]:
        listed = s3.object_versions(region=PRIMARY, bucket=bucket, prefix="photos/")
        return sorted(v.version_id for v in listed)

    kept = versions()
    out = io.StringIO()
    call_command("photos_renditions", region=PRIMARY, stdout=out)
    assert "made 0 display sizes; 2 photos had one" in out.getvalue()
    assert versions() == kept
