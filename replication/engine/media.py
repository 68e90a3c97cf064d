"""One direction of media replication: S3 events from the source's queue, delete markers
from a sweep of the source bucket (the emulator sends no event when a delete marker is
created), each applied to the target bucket."""

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote_plus

from django.conf import settings

from mra_site.aws import s3events
from mra_site.aws.s3events import DeleteMarker
from mra_site.resources import media_bucket

from ..controls import Control
from ..directions import Direction
from .stats import DatasetStats

BUFFER_LIMIT = 1000
SWEEP_SECONDS = 1.0
# How long a received message stays invisible to other receivers, beyond any delay.
VISIBILITY_SECONDS = 10


def queue_name(region: str) -> str:
    return settings.MRA_REPLICATION_QUEUE.format(region=region)


def object_copy(*, source: str, target: str, key: str, include_replicas: bool = False) -> bool:
    """Copy the current version of `key` to the target bucket, marked as a replica.

    False when there was nothing to do: the object is gone, is itself a replica
    (never copied back, unless re-synchronising a region), the target already
    holds this version, or the target holds a newer write.
    """
    current = s3events.object_get(region=source, bucket=media_bucket(source), key=key)
    if current is None or (current.replica_of and not include_replicas):
        return False
    tag = f"{source}:{current.version_id}"
    existing = s3events.object_head(region=target, bucket=media_bucket(target), key=key)
    if existing and (existing.replica_of == tag or existing.written_at > current.written_at):
        return False
    s3events.object_put(
        region=target,
        bucket=media_bucket(target),
        key=key,
        body=current.body,
        content_type=current.content_type,
        metadata={
            **current.metadata,
            s3events.REPLICA_OF: tag,
            s3events.WRITTEN_AT: str(current.written_at),
        },
    )
    return True


def object_remove(*, source: str, target: str, key: str, deleted_at: float) -> bool:
    """Put a delete marker on the target's key unless it is gone or was written later."""
    if s3events.object_head(region=source, bucket=media_bucket(source), key=key) is not None:
        return False  # written again since the delete; its own event copies it
    existing = s3events.object_head(region=target, bucket=media_bucket(target), key=key)
    if existing is None or existing.written_at > deleted_at * 1_000_000:
        return False
    s3events.object_delete(region=target, bucket=media_bucket(target), key=key)
    return True


@dataclass
class PendingMessage:
    receipt_handle: str
    changes: list[tuple[str, str, float]] = field(default_factory=list)  # (kind, key, time)

    @property
    def origin_time(self) -> float:
        return min((t for _, _, t in self.changes), default=0.0)


def message_changes(body: dict) -> list[tuple[str, str, float]]:
    """(created|removed, key, event time) for each record of an S3 event message."""
    changes = []
    for record in body.get("Records", []):
        name = record.get("eventName", "")
        kind = "created" if name.startswith("ObjectCreated") else "removed"
        if not name.startswith(("ObjectCreated", "ObjectRemoved")):
            continue
        key = unquote_plus(record["s3"]["object"]["key"])
        when = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")).timestamp()
        changes.append((kind, key, when))
    return changes


class MediaReplication:
    """`checkpoint` holds {"markers_done": [delete marker version ids already applied]}.

    Queue messages are deleted only after their changes were applied, so the
    queue itself is the checkpoint for new objects.
    """

    def __init__(self, *, direction: Direction, checkpoint: dict) -> None:
        self.direction = direction
        self.checkpoint = checkpoint
        self.stats = DatasetStats()
        self.queue_url: str | None = None
        self.messages: OrderedDict[str, PendingMessage] = OrderedDict()
        self.markers: list[tuple[DeleteMarker, float]] = []
        self.queue_depth = 0
        self.swept_at = 0.0
        self._swept_wall = 0.0

    def reset(self) -> None:
        self.queue_url = None
        self.messages.clear()
        self.markers = []
        self.swept_at = 0.0

    def poll(self, control: Control) -> None:
        source = self.direction.source
        if self.queue_url is None:
            self.queue_url = s3events.queue_url_get(region=source, name=queue_name(source))
        if not control.paused and len(self.messages) < BUFFER_LIMIT:
            received = s3events.queue_receive(
                region=source,
                url=self.queue_url,
                visibility=VISIBILITY_SECONDS + int(control.delay_seconds),
            )
            for message in received:
                pending = self.messages.get(message.message_id)
                if pending:
                    pending.receipt_handle = message.receipt_handle
                else:
                    self.messages[message.message_id] = PendingMessage(
                        message.receipt_handle, message_changes(message.body)
                    )
        if time.monotonic() - self.swept_at >= SWEEP_SECONDS:
            self._sweep()
        self.stats.pending = self._pending()
        self.stats.polled_at = time.time()

    def _sweep(self) -> None:
        """Find delete markers not applied yet; their creation time is bounded below by
        the previous sweep (S3 keeps whole seconds), which over- rather than under-states lag."""
        source = self.direction.source
        previous_sweep = self._swept_wall or time.time()
        latest = s3events.delete_markers_latest(region=source, bucket=media_bucket(source))
        current_ids = {marker.version_id for marker in latest}
        done = set(self.checkpoint.get("markers_done", [])) & current_ids
        self.checkpoint["markers_done"] = sorted(done)
        known = {marker.version_id: seen for marker, seen in self.markers}
        self.markers = [
            (
                marker,
                known.get(marker.version_id, max(marker.last_modified.timestamp(), previous_sweep)),
            )
            for marker in latest
            if marker.version_id not in done
        ]
        self.queue_depth = s3events.queue_depth(region=source, url=self.queue_url or "")
        self.swept_at = time.monotonic()
        self._swept_wall = time.time()

    def _pending(self) -> int:
        # Received messages are counted by the queue as not visible until deleted.
        return max(self.queue_depth, len(self.messages)) + len(self.markers)

    def apply_due(self, control: Control) -> bool:
        if control.paused:
            return False
        progressed = False
        source, target = self.direction.source, self.direction.target
        now = time.time()
        for message_id, pending in list(self.messages.items()):
            if now < pending.origin_time + control.delay_seconds:
                break
            for kind, key, when in pending.changes:
                if kind == "created":
                    applied = object_copy(source=source, target=target, key=key)
                else:
                    applied = object_remove(source=source, target=target, key=key, deleted_at=when)
                self._count(applied, when)
            s3events.queue_delete(
                region=source, url=self.queue_url or "", receipt_handles=[pending.receipt_handle]
            )
            del self.messages[message_id]
            self.queue_depth = max(0, self.queue_depth - 1)
            progressed = True
        for marker, seen in list(self.markers):
            if now < seen + control.delay_seconds:
                continue
            applied = object_remove(source=source, target=target, key=marker.key, deleted_at=seen)
            self._count(applied, seen)
            self.checkpoint.setdefault("markers_done", []).append(marker.version_id)
            self.markers.remove((marker, seen))
            progressed = True
        self.stats.pending = self._pending()
        return progressed

    def _count(self, applied: bool, origin_time: float) -> None:
        if applied:
            self.stats.record_applied(origin_time=origin_time)
        else:
            self.stats.skipped += 1
