"""Moving existing photos to the gallery's current keys (see records.gallery_pk)."""

from mra_site.aws.dynamodb import Attr, Update, items_scan, transact, write_stamp
from mra_site.aws.errors import ConditionFailed
from mra_site.resources import table_name

from .records import GALLERY, META, gallery_pk, photo_pk


def gallery_keys_backfill(*, region: str, dry_run: bool = False) -> tuple[int, int]:
    """Rewrite the gallery_pk of every photo whose key is not its shard's; (moved, total).

    Idempotent: a photo already on its key is not written, so a second run moves
    nothing. Pending purges and idempotency records are not photos and keep theirs.
    """
    table = table_name("photos")
    photos, _complete = items_scan(
        region=region,
        table=table,
        where=Attr("sk").eq(META) & Attr("gallery_pk").begins_with(GALLERY),
        attributes=("id", "gallery_pk"),
        limit=10**9,
        action="scan photos for the gallery backfill",
    )
    moved = 0
    for photo in photos:
        photo_id, current = str(photo["id"]), str(photo["gallery_pk"])
        wanted = gallery_pk(photo_id)
        if current == wanted:
            continue
        if not dry_run:
            try:
                _move(region=region, table=table, photo_id=photo_id, current=current, wanted=wanted)
            except ConditionFailed:
                continue  # deleted, or moved by a concurrent run, meanwhile
        moved += 1
    return moved, len(photos)


def _move(*, region: str, table: str, photo_id: str, current: str, wanted: str) -> None:
    transact(
        region=region,
        writes=[
            Update(
                table=table,
                key={"pk": photo_pk(photo_id), "sk": META},
                # Stamped as a write, so replication carries the new key to the other region.
                set={"gallery_pk": wanted, **write_stamp(region)},
                condition=Attr("gallery_pk").eq(current),
            )
        ],
        action=f"move photo {photo_id} to gallery key {wanted}",
    )
