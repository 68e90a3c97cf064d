"""Full copy of one region into the other, for a region that came back empty.

A restarted emulator (like a region rebuilt from nothing) has lost every item
and object, and its streams start afresh; replaying the survivor's stream
position cannot restore what was written before. The survivor's tables are
scanned and its current objects copied, with the same last-writer-wins rules
as the streams, so running it twice, or alongside the replicator, is harmless.
"""

from collections.abc import Callable
from dataclasses import dataclass

from mra_site.aws import dynamodb, s3
from mra_site.resources import TABLES, media_bucket

from .media import object_copy


@dataclass
class ResyncResult:
    items_written: int = 0
    items_current: int = 0
    objects_written: int = 0
    objects_current: int = 0

    def __str__(self) -> str:
        return (
            f"{self.items_written} items written ({self.items_current} already current), "
            f"{self.objects_written} objects copied ({self.objects_current} already current)"
        )


def region_resync(
    *,
    source: str,
    target: str,
    authoritative: bool = False,
    report: Callable[[str], None] = lambda _: None,
) -> ResyncResult:
    """Copy every item and current object of `source` into `target`.

    With `authoritative` (a target that came back empty), the source's items
    replace the target's whatever their stamps: anything the target holds was
    written after it came back (its bootstrap seeds), and must not win over
    the data it lost.
    """
    result = ResyncResult()
    for spec in TABLES:
        for item in dynamodb.table_items_raw(region=source, table=spec.name):
            item = dict(item)
            item.pop(dynamodb.REPLICA_DELETE_FLAG, None)
            item.setdefault("mra_written_at", {"N": "0"})
            item.setdefault("mra_region", {"S": source})
            if authoritative:
                dynamodb.replica_put(region=target, table=spec.name, item=item)
                written = True
            else:
                written = dynamodb.replica_put_if_newer(
                    region=target,
                    table=spec.name,
                    hash_key=spec.hash_key,
                    item=item,
                    written_at=int(item["mra_written_at"]["N"]),
                )
            if written:
                result.items_written += 1
            else:
                result.items_current += 1
        report(f"{source} -> {target}: table {spec.name} done")
    for stored in s3.objects_list(region=source, bucket=media_bucket(source)):
        key = stored.key
        # Objects the target originally wrote come back too: it lost them.
        if object_copy(source=source, target=target, key=key, include_replicas=True):
            result.objects_written += 1
        else:
            result.objects_current += 1
    report(f"{source} -> {target}: bucket {media_bucket(source)} done")
    return result
