"""One direction of media replication: S3 events from the source's queue (new objects,
removals, delete markers), and a sweep of the source bucket's delete markers as a safety
net, each applied to the target bucket."""

import itertools
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote_plus

from django.conf import settings

from mra_site.aws import s3, sqs
from mra_site.aws.clients import bulk, fail_fast
from mra_site.aws.errors import AwsError
from mra_site.aws.s3 import DeleteMarker
from mra_site.resources import media_bucket

from ..canary import HEARTBEAT_KEY, heartbeat_versions_prune
from ..controls import Control
from ..directions import Direction
from .stats import DatasetStats

logger = logging.getLogger(__name__)

BUFFER_LIMIT = 1000
# Changes applied per round, and how many keys are copied at once.
APPLY_BATCH = 100
APPLY_THREADS = 8
# The sweep runs at most every SWEEP_SECONDS, and that often only while something
# happens (a change other than a heartbeat was read, or the queue held messages);
# otherwise every SWEEP_IDLE_SECONDS. Delete markers arrive as events like every
# other change (s3:ObjectRemoved:DeleteMarkerCreated) and a drain counts a receive
# that emptied the queue as the media's read, so the sweep is only the safety net
# for an event that never came: it lists every version in the bucket, a cost that
# grows with the bucket, and is kept to a tenth of the time at most.
SWEEP_SECONDS = 10.0
SWEEP_IDLE_SECONDS = 60.0
SWEEP_COST_FACTOR = 10
# How long a received message stays invisible to other receivers, beyond any delay.
VISIBILITY_SECONDS = 10
# Each heartbeat copied is a new version of one key, a second; every this many
# copies the target's older versions of it go at once (one listing, one delete),
# as the canary prunes its own (heartbeat_versions_prune), rather than after the
# lifecycle rule's day. Photos' replicas keep their versions, as S3 keeps them.
HEARTBEAT_PRUNE_EVERY = 30


def queue_name(region: str) -> str:
    return settings.MRA_REPLICATION_QUEUE.format(region=region)


class OwnCopies:
    """The versions this process's copies wrote, by region and key, the latest
    COPIES_REMEMBERED of them. Each copy sends an event back through its region's
    queue naming that version (`s3.object.versionId`): the direction carrying that
    region's changes passes it over as its own echo, without reading the object
    (which it would find to be a replica). One the process no longer remembers, or
    wrote before it started, is read and passed over as before."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.versions: OrderedDict[tuple[str, str, str], None] = OrderedDict()

    def add(self, *, region: str, key: str, version_id: str) -> None:
        if not version_id:
            return
        with self.lock:
            self.versions[(region, key, version_id)] = None
            while len(self.versions) > self.limit:
                self.versions.popitem(last=False)

    def holds(self, region: str, key: str, version_id: str) -> bool:
        with self.lock:
            return (region, key, version_id) in self.versions


COPIES_REMEMBERED = 10_000
own_copies = OwnCopies(COPIES_REMEMBERED)


def object_copy(*, source: str, target: str, key: str, include_replicas: bool = False) -> bool:
    """Copy the current version of `key` to the target bucket, marked as a replica.

    False when there was nothing to do: the object is gone, is itself a replica
    (never copied back, unless re-synchronising a region), the target already
    holds this version, or the target holds a newer write.
    """
    current = s3.object_get(region=source, bucket=media_bucket(source), key=key)
    if current is None or (current.replica_of and not include_replicas):
        return False
    tag = f"{source}:{current.version_id}"
    existing = s3.object_head(region=target, bucket=media_bucket(target), key=key)
    if existing and (existing.replica_of == tag or existing.written_at > current.written_at):
        return False
    version_id = s3.object_put(
        region=target,
        bucket=media_bucket(target),
        key=key,
        body=current.body,
        content_type=current.content_type,
        metadata={
            **current.metadata,
            s3.REPLICA_OF: tag,
            s3.WRITTEN_AT: str(current.written_at),
        },
    )
    own_copies.add(region=target, key=key, version_id=version_id)
    return True


def object_remove(*, source: str, target: str, key: str, deleted_at: float) -> bool:
    """Purge the key in the target: every version this direction copied there that was
    written no later than the deletion, and once no version is left, its delete markers.

    What S3 replication cannot do: it carries a delete marker but never the removal
    of a version, so on AWS the bucket's lifecycle rule expires the replica's versions
    instead. Never echoed back: only replicas of the source's writes go, so the
    source's own bytes are never touched by a removal that came back. A key written
    again in the source since the delete is left alone: its own event copies it.
    """
    if s3.object_head(region=source, bucket=media_bucket(source), key=key) is not None:
        return False
    bucket = media_bucket(target)
    versions = s3.object_versions(region=target, bucket=bucket, keys=[key])
    doomed: list[s3.StoredVersion] = []
    kept = 0
    for version in versions:
        if version.delete_marker:
            continue
        head = s3.object_head(region=target, bucket=bucket, key=key, version_id=version.version_id)
        if head is None:
            continue
        if head.replica_of.startswith(f"{source}:") and head.written_at <= deleted_at * 1_000_000:
            doomed.append(version)
        else:
            kept += 1
    if not doomed:
        return False
    if not kept:
        doomed += [version for version in versions if version.delete_marker]
    s3.versions_delete(region=target, bucket=bucket, versions=doomed)
    return True


class Sweeper:
    """Lists the source bucket's current delete markers (and the queue's depth) in a
    thread of its own, so that a large bucket never holds up the copying of new
    objects: every SWEEP_SECONDS while `wanted` (something happened) or the queue
    held messages at the last sweep, else every SWEEP_IDLE_SECONDS.

    A marker's creation time is bounded below by the previous sweep (S3 keeps
    whole seconds), which over- rather than under-states its lag.
    """

    def __init__(self, direction: Direction) -> None:
        self.direction = direction
        self.queue_url: str | None = None
        self.lock = threading.Lock()
        self.result: tuple[list[DeleteMarker], float, int, float] | AwsError | None = None
        self.thread: threading.Thread | None = None
        self.previous = 0.0
        self.wanted = threading.Event()

    def want(self) -> None:
        """Sweep again as soon as SWEEP_SECONDS allows: something other than a heartbeat
        changed, and an event for it may yet go missing."""
        self.wanted.set()

    def ensure_running(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(
                target=self._run, name=f"sweep {self.direction}", daemon=True
            )
            self.thread.start()

    def take(self) -> tuple[list[DeleteMarker], float, int, float] | AwsError | None:
        with self.lock:
            result, self.result = self.result, None
        return result

    def _run(self) -> None:
        source = self.direction.source
        while True:
            self.wanted.clear()
            started = time.time()
            depth = 0
            try:
                # A listing of the whole bucket: slow is not down, and must not
                # close the region to the copying (the region's breaker).
                with bulk():
                    latest = s3.delete_markers_latest(region=source, bucket=media_bucket(source))
                depth = sqs.queue_depth(region=source, url=self.queue_url or "", in_flight=False)
                result: tuple[list[DeleteMarker], float, int, float] | AwsError = (
                    latest,
                    self.previous,
                    depth,
                    started,
                )
                self.previous = started
            except AwsError as exc:
                result = exc
            with self.lock:
                self.result = result
            # Listing every version costs the emulator time in proportion to the
            # bucket; sweeping a large bucket less often keeps that cost bounded.
            took = time.time() - started
            time.sleep(max(SWEEP_SECONDS - took, SWEEP_COST_FACTOR * took))
            if not depth:
                self.wanted.wait(max(0.0, SWEEP_IDLE_SECONDS - (time.time() - started)))


@dataclass
class KeyOutcome:
    results: list[tuple[bool, float]] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)  # message ids or marker version ids
    error: AwsError | None = None


@dataclass
class PendingMessage:
    receipt_handle: str
    changes: list[tuple[str, str, float]] = field(default_factory=list)  # (kind, key, time)

    @property
    def origin_time(self) -> float:
        return min((t for _, _, t in self.changes), default=0.0)


def heartbeats_only(messages: list[sqs.QueueMessage], *, region: str) -> bool:
    """Every change these messages from `region`'s queue carry is to the canary's
    heartbeat object, or is a copy this process made there."""
    return all(
        key == HEARTBEAT_KEY
        for m in messages
        for _, key, _ in message_changes(m.body, region=region)
    )


def message_changes(body: dict, *, region: str = "") -> list[tuple[str, str, float]]:
    """(created|removed, key, event time) for each record of an S3 event message;
    with the `region` whose queue it came from, without this process's own copies."""
    changes = []
    for record in body.get("Records", []):
        name = record.get("eventName", "")
        kind = "created" if name.startswith("ObjectCreated") else "removed"
        if not name.startswith(("ObjectCreated", "ObjectRemoved")):
            continue
        key = unquote_plus(record["s3"]["object"]["key"])
        version_id = record["s3"]["object"].get("versionId", "")
        if kind == "created" and region and own_copies.holds(region, key, version_id):
            continue
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
        # When a receive last found the queue holding nothing more than it returned
        # (fewer messages than a full batch): its start, on the round's clock.
        self.read_at = 0.0
        self.blind_until = 0.0
        self.delay_seconds = 0.0  # the drill controls' delay at the last receive
        self.pool = ThreadPoolExecutor(
            max_workers=APPLY_THREADS, thread_name_prefix=f"media {direction}"
        )
        self.sweeper = Sweeper(direction)
        # Messages a long poll on the listening thread received (see listen).
        self.heard_lock = threading.Lock()
        self.heard: list[sqs.QueueMessage] = []
        self.heard_emptied_at = 0.0
        # Set by poll when a change other than a heartbeat was received.
        self.active = False
        self.heartbeat_copies = itertools.count(1)

    def reset(self) -> None:
        url, self.queue_url = self.queue_url, None
        with self.heard_lock:
            held = [m.receipt_handle for m in self.heard]
            self.heard = []
            started = time.time()
        held += [pending.receipt_handle for pending in self.messages.values()]
        self.messages.clear()
        self.markers = []
        if held and not self._hand_back(url, held):
            # What was received and is forgotten here stays in flight, unseen by
            # any receive, until its visibility timeout ends: until then an empty
            # receive says nothing about what the queue holds.
            self.blind_until = started + VISIBILITY_SECONDS + self.delay_seconds

    def _hand_back(self, url: str | None, receipt_handles: list[str]) -> bool:
        """Make what a failed round received visible again at once, so that the next
        receive gets it back and a receive that finds the queue empty means it is
        (a round that failed on the target, the source answering). False when the
        source did not take it back."""
        if not url:
            return False
        try:
            with fail_fast():
                return sqs.queue_release(
                    region=self.direction.source, url=url, receipt_handles=receipt_handles
                )
        except AwsError:
            return False

    def listen(self, control: Control, *, wait: int) -> list[sqs.QueueMessage] | None:
        """One SQS long poll of the source's queue, from a thread of its own: what it
        receives waits for the next poll, and is returned so that the direction's
        loop can go round now. None when there was nothing to listen to (no queue
        yet, paused, buffer full). A source that stops answering holds this thread
        only, never the direction's table reads or its status."""
        url = self.queue_url
        if url is None or control.paused or len(self.messages) >= BUFFER_LIMIT:
            return None
        batch, emptied_at = self._receive(control, url=url, wait=wait)
        with self.heard_lock:
            self.heard += batch
            self.heard_emptied_at = emptied_at or self.heard_emptied_at
        return batch

    def _receive(
        self, control: Control, *, url: str, wait: int
    ) -> tuple[list[sqs.QueueMessage], float]:
        """One ReceiveMessage of the source's queue: the messages, and when the call
        started if it found the queue emptied (fewer than a full batch), else 0."""
        started = time.time()
        self.delay_seconds = control.delay_seconds
        batch = sqs.queue_receive(
            region=self.direction.source,
            url=url,
            visibility=VISIBILITY_SECONDS + int(control.delay_seconds),
            wait=wait,
        )
        return batch, started if len(batch) < sqs.RECEIVE_BATCH else 0.0

    def poll(self, control: Control, *, wait: int = 0) -> None:
        """Receive what the queue holds; with `wait` (seconds), block on the queue
        until a message arrives or `wait` passed (SQS long polling)."""
        source = self.direction.source
        if self.queue_url is None:
            self.queue_url = sqs.queue_url_get(region=source, name=queue_name(source))
            self.sweeper.queue_url = self.queue_url
        self.sweeper.ensure_running()
        with self.heard_lock:
            received, self.heard = self.heard, []
            emptied_at, self.heard_emptied_at = self.heard_emptied_at, 0.0
        # What the listener heard is what had arrived: the queue is asked again
        # only when that was a full batch (more may wait) or nothing was heard.
        full_batch = len(received) >= sqs.RECEIVE_BATCH
        while (
            not control.paused
            and (full_batch or not received)
            and len(self.messages) + len(received) < BUFFER_LIMIT
        ):
            batch, emptied = self._receive(
                control, url=self.queue_url, wait=0 if received else wait
            )
            emptied_at = max(emptied_at, emptied)
            received += batch
            if len(batch) < sqs.RECEIVE_BATCH or len(received) >= APPLY_BATCH:
                break
        self.active = False
        for message in received:
            pending = self.messages.get(message.message_id)
            if pending:
                pending.receipt_handle = message.receipt_handle
            else:
                pending = self.messages[message.message_id] = PendingMessage(
                    message.receipt_handle, message_changes(message.body, region=source)
                )
            self.active |= any(key != HEARTBEAT_KEY for _, key, _ in pending.changes)
        if self.active:
            self.sweeper.want()
        if emptied_at >= self.blind_until:
            self.read_at = max(self.read_at, emptied_at)
        self._take_sweep()
        self.stats.pending = self._pending()
        # What the queue held is known as of the last receive that emptied it (its
        # messages are now counted as pending) or the last sweep, whichever is
        # newer: a drain need not wait for a sweep, which lists the whole bucket.
        # Delete markers arrive as events too; the sweep is the safety net.
        self.stats.polled_at = max(self.swept_at, self.read_at) or None

    def _take_sweep(self) -> None:
        sweep = self.sweeper.take()
        if sweep is None:
            return
        if isinstance(sweep, AwsError):
            raise sweep
        latest, previous_sweep, depth, self.swept_at = sweep
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
        self.queue_depth = depth

    def _pending(self) -> int:
        # Messages waiting at the last sweep may since have been received and
        # counted again: pending errs on the high side for at most a sweep.
        # A receive that emptied the queue after the sweep supersedes its depth.
        depth = self.queue_depth if self.swept_at >= self.read_at else 0
        return depth + len(self.messages) + len(self.markers)

    def apply_due(self, control: Control) -> bool:
        """Apply due changes, different keys in parallel and each key's changes in order;
        a message is deleted once all its changes were applied."""
        if control.paused:
            return False
        now = time.time()
        due: list[tuple[str, PendingMessage]] = []
        for message_id, pending in self.messages.items():
            if now < pending.origin_time + control.delay_seconds or len(due) >= APPLY_BATCH:
                break
            due.append((message_id, pending))
        markers = [(m, seen) for m, seen in self.markers if now >= seen + control.delay_seconds]
        by_key: dict[str, list[tuple[str, float, str]]] = {}
        for message_id, pending in due:
            for kind, key, when in pending.changes:
                by_key.setdefault(key, []).append((kind, when, message_id))
        for marker, seen in markers:
            by_key.setdefault(marker.key, []).append(("removed", seen, marker.version_id))
        if not by_key and not due:
            return False
        outcomes = list(self.pool.map(self._apply_key, by_key.items()))
        failed = {origin for outcome in outcomes for origin in outcome.failed}
        for outcome in outcomes:
            for applied, when in outcome.results:
                self._count(applied, when)
        done = [(mid, p) for mid, p in due if mid not in failed]
        sqs.queue_delete(
            region=self.direction.source,
            url=self.queue_url or "",
            receipt_handles=[pending.receipt_handle for _, pending in done],
        )
        for message_id, _ in done:
            del self.messages[message_id]
        for marker, seen in markers:
            if marker.version_id not in failed:
                self.checkpoint.setdefault("markers_done", []).append(marker.version_id)
                self.markers.remove((marker, seen))
        self.stats.pending = self._pending()
        errors = [outcome.error for outcome in outcomes if outcome.error]
        if errors:
            raise errors[0]
        return True

    def _apply_key(self, entry: tuple[str, list[tuple[str, float, str]]]) -> "KeyOutcome":
        key, changes = entry
        source, target = self.direction.source, self.direction.target
        outcome = KeyOutcome()
        for position, (kind, when, _) in enumerate(changes):
            try:
                if kind == "created":
                    applied = object_copy(source=source, target=target, key=key)
                    if applied and key == HEARTBEAT_KEY:
                        self._heartbeat_copied()
                else:
                    applied = object_remove(source=source, target=target, key=key, deleted_at=when)
            except AwsError as exc:
                outcome.error = exc
                outcome.failed = {o for _, _, o in changes[position:]}
                return outcome
            outcome.results.append((applied, when))
        return outcome

    def _heartbeat_copied(self) -> None:
        if next(self.heartbeat_copies) % HEARTBEAT_PRUNE_EVERY:
            return
        target = self.direction.target
        try:
            heartbeat_versions_prune(region=target)
        except AwsError as exc:  # the next prune takes what this one left
            logger.warning(
                "%s: older heartbeat copies in %s not pruned: %s", self.direction, target, exc
            )

    def _count(self, applied: bool, origin_time: float) -> None:
        if applied:
            self.stats.record_applied(origin_time=origin_time)
        else:
            self.stats.skipped += 1
