"""The lag canary: a heartbeat written to the writing region every second.

Each heartbeat goes into the canary table and, as a small object, into the
media bucket, so it travels both replication paths (DynamoDB and S3). The age
of the newest heartbeat a region holds is how far behind the writing region
it is: the live RPO shown to operators and the input of the drain check.

While fenced the canary keeps writing to the region that was writing before
the fence (`fenced_from`): a heartbeat written after the fence reaching the
other region is what proves everything before it has arrived. Heartbeats are
not user data, so they do not pass the write gate.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.dispatch import Signal

from mra_site.aws.clients import regions
from mra_site.aws.dynamodb import item_get, item_put, write_stamp
from mra_site.aws.errors import AwsError
from mra_site.aws.s3 import object_get, object_put, object_versions, versions_delete
from mra_site.resources import media_bucket, table_name

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "canary/heartbeat.json"
# Every this many heartbeats, the heartbeat object's older versions go (see
# heartbeat_versions_prune).
PRUNE_EVERY_BEATS = 60

# Sent at the start of every canary round; a receiver answers with the region
# writing now. The routing app answers (routing.apps), reconciling the state
# replicas first: a signal, because routing imports replication and
# replication never imports routing.
writer_region_wanted = Signal()


@dataclass(frozen=True)
class Heartbeat:
    seq: int
    written_at: int  # microseconds since the epoch, the writer's clock
    source_region: str

    def age_seconds(self, now_us: int | None = None) -> float:
        now_us = time.time_ns() // 1000 if now_us is None else now_us
        return max(0.0, (now_us - self.written_at) / 1_000_000)


@dataclass(frozen=True)
class RegionLag:
    """What one region holds: the newest heartbeat in its table and its bucket."""

    region: str
    table: Heartbeat | None
    bucket: Heartbeat | None
    error: str = ""

    @property
    def oldest(self) -> Heartbeat | None:
        """The older of the two copies: the region is as far behind as its slower path."""
        if self.table is None or self.bucket is None:
            return None
        return min(self.table, self.bucket, key=lambda h: h.written_at)

    def age_seconds(self, now_us: int | None = None) -> float | None:
        oldest = self.oldest
        return None if oldest is None else round(oldest.age_seconds(now_us), 3)

    def describe(self) -> str:
        if self.error:
            return f"{self.region}: unknown ({self.error})"
        age = self.age_seconds()
        if age is None:
            return f"{self.region}: no heartbeat yet"
        return f"{self.region}: newest heartbeat {age:.1f} s old"


def heartbeat_write(*, region: str, seq: int) -> Heartbeat:
    """Write heartbeat `seq` to `region`'s canary table and media bucket."""
    stamp = write_stamp(region)
    beat = Heartbeat(seq=seq, written_at=stamp["mra_written_at"], source_region=region)
    body = json.dumps(
        {"seq": beat.seq, "written_at": beat.written_at, "source_region": region}
    ).encode()
    item_put(
        region=region,
        table=table_name("canary"),
        item={
            "app_id": settings.MRA_APP_ID,
            "seq": seq,
            "written_at": beat.written_at,
            "source_region": region,
            **stamp,
        },
        action="write canary heartbeat",
    )
    object_put(
        region=region,
        bucket=media_bucket(region),
        key=HEARTBEAT_KEY,
        body=body,
        content_type="application/json",
        metadata={"mra-written-at": str(beat.written_at), "mra-region": region},
    )
    return beat


def heartbeat_in_table(*, region: str) -> Heartbeat | None:
    item = item_get(
        region=region,
        table=table_name("canary"),
        key={"app_id": settings.MRA_APP_ID},
        consistent=True,
        action="read canary heartbeat",
    )
    if not item:
        return None
    return Heartbeat(
        seq=int(item["seq"]),
        written_at=int(item["written_at"]),
        source_region=str(item["source_region"]),
    )


def heartbeat_in_bucket(*, region: str) -> Heartbeat | None:
    stored = object_get(region=region, bucket=media_bucket(region), key=HEARTBEAT_KEY)
    if stored is None:
        return None
    data = json.loads(stored.body)
    return Heartbeat(
        seq=int(data["seq"]),
        written_at=int(data["written_at"]),
        source_region=str(data["source_region"]),
    )


def canary_lag(*, region: str) -> RegionLag:
    """The newest heartbeat `region` holds, by table and by bucket."""
    try:
        return RegionLag(
            region=region,
            table=heartbeat_in_table(region=region),
            bucket=heartbeat_in_bucket(region=region),
        )
    except AwsError as exc:
        return RegionLag(region=region, table=None, bucket=None, error=str(exc))


def canary_lags() -> dict[str, RegionLag]:
    """canary_lag of both regions, read concurrently."""
    results: dict[str, RegionLag] = {}

    def read(name: str) -> None:
        results[name] = canary_lag(region=name)

    threads = [threading.Thread(target=read, args=(r,)) for r in regions()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {r: results[r] for r in regions()}


def heartbeat_versions_prune(*, region: str) -> int:
    """Delete the heartbeat object's noncurrent versions in `region`; returns how many.

    Each heartbeat is a new version of one key. The media bucket's lifecycle
    rule expires noncurrent versions after a day, which for a heartbeat a
    second is 86,400 versions that every listing of the bucket's versions (the
    delete-marker sweep, photo deletion) pays for, on AWS as in the emulator
    (which runs no lifecycle at all). Only the current version is ever read.
    """
    bucket = media_bucket(region)
    old = [
        version
        for version in object_versions(region=region, bucket=bucket, keys=[HEARTBEAT_KEY])
        if version.key == HEARTBEAT_KEY and not version.is_latest and not version.delete_marker
    ]
    versions_delete(region=region, bucket=bucket, versions=old)
    return len(old)


def canary_tick(*, seq: int) -> Heartbeat | None:
    """One canary round: ask for the writing region (the routing state is reconciled on
    the way), then beat there."""
    try:
        answers = writer_region_wanted.send(sender=canary_tick)
    except AwsError as exc:
        logger.warning("canary: routing state not reconciled: %s", exc)
        return None
    region = next((answer for _, answer in answers if answer), None)
    if region is None:
        logger.warning("canary: no region's routing state is readable; skipping heartbeat %d", seq)
        return None
    try:
        return heartbeat_write(region=region, seq=seq)
    except AwsError as exc:
        logger.warning("canary: heartbeat %d not written: %s", seq, exc)
        return None


def canary_run(*, interval: float, stop: threading.Event, beats: int | None = None) -> int:
    """Beat every `interval` seconds until `stop` is set (or `beats` were attempted)."""
    seq = time.time_ns() // 1000  # increasing across restarts without a stored counter
    attempted = 0
    next_at = time.monotonic()
    while not stop.is_set() and (beats is None or attempted < beats):
        seq += 1
        beat = canary_tick(seq=seq)
        attempted += 1
        if beat is not None and attempted % PRUNE_EVERY_BEATS == 0:
            try:
                heartbeat_versions_prune(region=beat.source_region)
            except AwsError as exc:
                # In the peer's bucket the site's role may only read and write
                # heartbeats; the lifecycle rule expires them there.
                logger.info("canary: older heartbeats not pruned: %s", exc)
        next_at += interval
        stop.wait(max(0.0, next_at - time.monotonic()))
    return attempted
