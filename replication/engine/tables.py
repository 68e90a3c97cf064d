"""One table's DynamoDB stream in one direction: read ahead, apply in order, checkpoint."""

import json
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from mra_site.aws import dynamodb, dynamodbstreams
from mra_site.aws.errors import AwsError, ResourceMissing
from mra_site.resources import TableSpec

from ..controls import Control
from ..directions import Direction
from .stats import DatasetStats

# Records read ahead of the checkpoint; beyond it pending is reported as "at least".
BUFFER_LIMIT = 5000
# Records applied per round, and how many items are written at once.
APPLY_BATCH = 200
APPLY_THREADS = 8
# A shard's records per GetRecords (DynamoDB Streams' maximum).
RECORDS_PER_READ = 1000
# How often the source's stream is looked up again (a region back empty has a new
# one). A stream that went away with its region fails the next read anyway, which
# resets the table and looks it up at once; this catches a stream replaced while
# its old iterators still read (nothing) successfully.
STREAM_RECHECK_SECONDS = 30.0


def record_origin_time(record: dict[str, Any]) -> float:
    """When the change happened (seconds since the epoch): the item's write stamp
    when it has one, else the time the stream recorded it."""
    data = record["dynamodb"]
    image = data.get("NewImage") if record["eventName"] != "REMOVE" else None
    stamp = (image or {}).get("mra_written_at", {}).get("N")
    if stamp:
        return int(stamp) / 1_000_000
    return data["ApproximateCreationDateTime"].timestamp()


def _item_key(record: dict[str, Any]) -> str:
    return json.dumps(record["dynamodb"]["Keys"], sort_keys=True)


class TableReplication:
    """Replicates `spec` from direction.source to direction.target.

    `checkpoint` is this table's part of the direction's checkpoint file:
    {"stream_arn": ARN, "shards": {shard id: last applied sequence number}},
    plus, after the source came back empty, "rebuilding" until the survivor's
    copy is in and then "discard_before" (epoch seconds): records older than
    that are the returned region's bootstrap and the copy, never sent on.
    """

    def __init__(self, *, direction: Direction, spec: TableSpec, checkpoint: dict) -> None:
        self.direction = direction
        self.spec = spec
        self.checkpoint = checkpoint
        self.stats = DatasetStats()
        self.buffer: deque[tuple[str, dict[str, Any]]] = deque()
        self.iterators: dict[str, str | None] = {}
        self.read_positions: dict[str, str] = {}  # last sequence number read, per shard
        self.checked_at = 0.0
        # Whether the newest record read was an echo (a replica the other direction wrote).
        self.last_read_echo = False
        self.pool = ThreadPoolExecutor(
            max_workers=APPLY_THREADS, thread_name_prefix=f"{spec.key} {direction}"
        )

    def reset(self) -> None:
        """Forget what was read ahead; the next poll re-reads from the checkpoint."""
        self.buffer.clear()
        self.iterators = {}
        self.read_positions = {}

    def poll(self) -> bool:
        """Read new records; True when the source stream was replaced (region came back empty)."""
        replaced = False
        if not self.iterators or time.monotonic() - self.checked_at > STREAM_RECHECK_SECONDS:
            replaced = self._open()
        for shard_id, iterator in list(self.iterators.items()):
            while iterator and len(self.buffer) < BUFFER_LIMIT:
                records, iterator = dynamodbstreams.stream_records_get(
                    region=self.direction.source, iterator=iterator, limit=RECORDS_PER_READ
                )
                self.buffer.extend((shard_id, record) for record in records)
                self.iterators[shard_id] = iterator
                if records:
                    self.read_positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                    self.last_read_echo = self._is_echo(records[-1])
                # A short page read what there was: asking again now would find
                # nothing (or what the next round reads as soon).
                if len(records) < RECORDS_PER_READ:
                    break
        self.stats.pending = self._pending()
        self.stats.pending_exact = len(self.buffer) < BUFFER_LIMIT
        self.stats.polled_at = time.time()
        return replaced

    def stream_created_at(self) -> float:
        """When the current stream was created, from its label (a UTC timestamp)."""
        label = self.checkpoint.get("stream_arn", "").rpartition("/stream/")[2]
        try:
            created = datetime.fromisoformat(label)
        except ValueError:
            return time.time()
        return created.replace(tzinfo=created.tzinfo or UTC).timestamp()

    def rebuilt(self, *, in_progress: bool, finished_at: float) -> None:
        """Once the source region, back empty, holds the other region's data again,
        its records from before that moment are dropped: they are its bootstrap
        and the copy itself, and the copy's source is authoritative."""
        if self.checkpoint.get("rebuilding") and not in_progress and finished_at:
            self.checkpoint["discard_before"] = finished_at
            del self.checkpoint["rebuilding"]

    def _discarded(self, record: dict[str, Any]) -> bool:
        limit = self.checkpoint.get("discard_before", 0.0)
        return bool(limit) and record["dynamodb"]["ApproximateCreationDateTime"].timestamp() < limit

    def apply_due(self, control: Control) -> bool:
        """Apply the buffered records whose delay has passed; True if any.

        Records of different items are applied in parallel, those of one item
        in stream order; the checkpoint moves only past records that were all
        applied, so a failure leaves the rest to be replayed (replays change
        nothing). Echoes are passed over even while paused: they change nothing.
        """
        now = time.time()
        batch: list[tuple[str, dict[str, Any], bool]] = []
        for shard_id, record in self.buffer:
            echo = self._is_echo(record) or self._discarded(record)
            due = now >= record_origin_time(record) + control.delay_seconds
            if len(batch) >= APPLY_BATCH or (not echo and (control.paused or not due)):
                break
            batch.append((shard_id, record, echo))
        if not batch:
            return False
        by_item: dict[str, list[int]] = {}
        for position, (_, record, echo) in enumerate(batch):
            if not echo:
                by_item.setdefault(_item_key(record), []).append(position)
        outcomes: dict[int, bool | AwsError] = {}
        for result in self.pool.map(lambda ps: self._apply_in_order(batch, ps), by_item.values()):
            outcomes.update(result)
        error = None
        for position, (shard_id, record, echo) in enumerate(batch):
            outcome = False if echo else outcomes[position]
            if isinstance(outcome, AwsError):
                error = outcome
                break
            if outcome:
                self.stats.record_applied(origin_time=record_origin_time(record))
            else:
                self.stats.skipped += 1
            self.buffer.popleft()
            self.checkpoint.setdefault("shards", {})[shard_id] = record["dynamodb"][
                "SequenceNumber"
            ]
        self.stats.pending = self._pending()
        if error:
            raise error
        return True

    def _apply_in_order(
        self, batch: list[tuple[str, dict[str, Any], bool]], positions: list[int]
    ) -> dict[int, bool | AwsError]:
        results: dict[int, bool | AwsError] = {}
        for index, position in enumerate(positions):
            try:
                results[position] = self._apply(batch[position][1])
            except AwsError as exc:
                # Later records of this item must wait for this one.
                results.update({p: exc for p in positions[index:]})
                break
        return results

    def _pending(self) -> int:
        return sum(1 for _, record in self.buffer if not self._is_echo(record))

    def _is_echo(self, record: dict[str, Any]) -> bool:
        """A replica written by the replicator, which must not go back to its origin."""
        data = record["dynamodb"]
        if record["eventName"] == "REMOVE":
            return dynamodb.REPLICA_DELETE_FLAG in data.get("OldImage", {})
        return data["NewImage"].get("mra_region", {}).get("S") == self.direction.target

    def _open(self) -> bool:
        self.checked_at = time.monotonic()
        arn = dynamodbstreams.stream_arn_get(region=self.direction.source, table=self.spec.name)
        if arn is None:
            raise ResourceMissing(
                f"table {self.spec.name} in {self.direction.source} has no stream; "
                "run manage.py mra_bootstrap",
                region=self.direction.source,
            )
        previous = self.checkpoint.get("stream_arn")
        if previous != arn:
            # A new stream means the table was re-created: start at its beginning.
            self.checkpoint.clear()
            self.checkpoint.update({"stream_arn": arn, "shards": {}})
            if previous is not None:
                self.checkpoint["rebuilding"] = True
            self.reset()
        # Open iterators are replaced too, just after what was read: one can go
        # stale while its stream lives on (the emulator swaps a table's shard
        # when it undoes a cancelled transaction), and this costs a call a shard.
        after = {**self.checkpoint["shards"], **self.read_positions}
        self.iterators = {
            shard_id: dynamodbstreams.shard_iterator_get(
                region=self.direction.source,
                stream_arn=arn,
                shard_id=shard_id,
                after_sequence=after.get(shard_id),
            )
            for shard_id in dynamodbstreams.stream_shard_ids(
                region=self.direction.source, stream_arn=arn
            )
        }
        return previous is not None and previous != arn

    def _apply(self, record: dict[str, Any]) -> bool:
        """Apply one record to the target; False when it was an echo or lost to a newer write."""
        source, target = self.direction.source, self.direction.target
        data = record["dynamodb"]
        if record["eventName"] == "REMOVE":
            deleted_at = int(data["ApproximateCreationDateTime"].timestamp() * 1_000_000)
            return dynamodb.replica_delete_if_older(
                region=target,
                table=self.spec.name,
                key=data["Keys"],
                deleted_at=deleted_at,
                origin=source,
            )
        item = dict(data["NewImage"])
        if "mra_written_at" not in item:
            # Written without a stamp: stamp the replica with the stream's time,
            # so that it still takes part in last-writer-wins and is not echoed.
            origin_us = int(data["ApproximateCreationDateTime"].timestamp() * 1_000_000)
            item["mra_written_at"] = {"N": str(origin_us)}
            item["mra_region"] = {"S": source}
        item.setdefault("mra_region", {"S": source})
        item.pop(dynamodb.REPLICA_DELETE_FLAG, None)
        return dynamodb.replica_put_if_newer(
            region=target,
            table=self.spec.name,
            hash_key=self.spec.hash_key,
            item=item,
            written_at=int(item["mra_written_at"]["N"]),
        )
