"""Ownership by the user registry's stable id for photos and comments stored
when it was the bare username."""

from dataclasses import dataclass, field

from django.conf import settings

from accounts.registry import UserRecord, user_by_name
from mra_site.aws.dynamodb import Attr, Update, items_scan, write_stamp
from mra_site.resources import table_name
from routing.fencing import assert_writable, guarded_write

from .records import COMMENT_PREFIX, META, owner_pk

# One scan reads the whole table: a migration is rare operator work.
_SCAN_LIMIT = 1_000_000


@dataclass
class OwnershipReport:
    photos: int = 0
    comments: int = 0
    # Usernames the registry does not know: their items keep no owner id.
    unknown: set[str] = field(default_factory=set)


def ownership_migrate() -> OwnershipReport:
    """Set `owner_id` (and the by_owner index key) on photos and `author_id` on
    comments from the registry; items that have them are left alone, so a second
    run changes nothing."""
    region = settings.MRA_REGION
    assert_writable(region=region)
    table = table_name("photos")
    items, _ = items_scan(
        region=region,
        table=table,
        where=Attr("sk").eq(META) | Attr("sk").begins_with(COMMENT_PREFIX),
        limit=_SCAN_LIMIT,
        action="scan photos and comments for their owners",
    )
    report = OwnershipReport()
    users: dict[str, UserRecord | None] = {}
    for item in items:
        is_photo = item["sk"] == META
        name = str(item.get("owner" if is_photo else "author", ""))
        if name not in users:
            users[name] = user_by_name(username=name, region=region, consistent=True)
        record = users[name]
        if record is None:
            report.unknown.add(name)
            continue
        changes = (
            {"owner_id": record.id, "owner_pk": owner_pk(record.id)}
            if is_photo
            else {"author_id": record.id}
        )
        if all(item.get(k) == v for k, v in changes.items()):
            continue
        guarded_write(
            writes=[
                Update(
                    table=table,
                    key={"pk": item["pk"], "sk": item["sk"]},
                    set={**changes, **write_stamp(region)},
                    condition=Attr("pk").exists(),
                )
            ],
            region=region,
            action=f"set the owner id of {item['pk']} {item['sk']}",
        )
        if is_photo:
            report.photos += 1
        else:
            report.comments += 1
    return report
