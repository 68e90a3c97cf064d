"""Bootstrap step: demo photos (with --demo only, so local stacks only)."""

from django.conf import settings

from accounts.bootstrap import demo_owner_id
from mra_site.aws import s3
from mra_site.aws.dynamodb import Attr, item_get, item_put, write_stamp
from mra_site.aws.errors import ConditionFailed
from mra_site.resources import media_bucket, table_name

from .demo import DEMO_TITLES, demo_image, demo_photo_id
from .images import image_process
from .records import META, media_objects, photo_item, photo_new, photo_pk

DEMO_CREATED_AT = "2026-01-01T09:{minute:02d}:00.000000Z"


def seed_demo_photos(*, region: str, demo: bool) -> list[str]:
    """Seed each region directly, as bootstrap seeds the routing state: this is
    provisioning, not a user's write, and must not wait for replication."""
    if not demo:
        return []
    table = table_name("photos")
    bucket = media_bucket(region)
    seeded = 0
    owner_id = demo_owner_id(region=region)
    for index, title in enumerate(DEMO_TITLES):
        photo_id = demo_photo_id(index)
        photo_key = {"pk": photo_pk(photo_id), "sk": META}
        if item_get(
            region=region, table=table, key=photo_key, action=f"look up demo photo {photo_id}"
        ):
            continue
        image = image_process(data=demo_image(index), max_pixels=settings.MRA_PHOTO_MAX_PIXELS)
        photo = photo_new(
            photo_id=photo_id,
            title=title,
            owner=settings.MRA_DEMO_USERNAME,
            owner_id=owner_id,
            created_at=DEMO_CREATED_AT.format(minute=index),
            image=image,
            region=region,
        )
        for key, body, content_type in media_objects(photo, image):
            s3.object_put(
                region=region, bucket=bucket, key=key, body=body, content_type=content_type
            )
        try:
            item_put(
                region=region,
                table=table,
                item={**photo_item(photo), **write_stamp(region)},
                condition=Attr("pk").not_exists(),
                action=f"seed demo photo {photo_id}",
            )
        except ConditionFailed:
            # A running replicator copied it from the other region meanwhile.
            continue
        seeded += 1
    return [f"{seeded} demo photos"] if seeded else []
