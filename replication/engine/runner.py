"""The replicator process: one worker thread per direction, each with its own
checkpoint and status file, so a region that is down stalls only the work
that needs it."""

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from django.conf import settings

from mra_site.aws.errors import AwsError
from mra_site.resources import TABLES

from ..controls import CONTROL_FILE, Control, replication_controls_get
from ..directions import CANARY_DATASET, MEDIA_DATASET, Direction, directions_all
from ..files import json_read, json_write, state_dir
from .media import MediaReplication, heartbeats_only
from .resync import region_resync
from .tables import TableReplication

logger = logging.getLogger(__name__)

Dataset = TableReplication | MediaReplication

# After a round that read nothing but heartbeats, the next round waits IDLE_FIRST,
# then twice as long after each such round, up to IDLE_MAX; any other change
# read snaps it back. A long poll of the source's event queue on a thread of
# its own (DirectionWorker.listen) ends a wait as soon as an object changes; a
# source that stops answering holds that thread only, never the direction's
# table reads or its status (written every STATUS_SECONDS, waits included).
# While the canary beats (every second) its events wake the direction that
# carries them, so a change that reaches no queue (a table write) waits at most
# a second there; the copies it writes in the other region wake nothing.
IDLE_FIRST = 0.05
IDLE_MAX = 2.0
# For ATTENTIVE_SECONDS after a round read a change other than a heartbeat, the
# wait stays within ATTENTIVE_MAX: writes come in runs, and a table write wakes
# nothing, so a longer wait would be its lag. A stack at rest climbs to IDLE_MAX.
ATTENTIVE_SECONDS = 10.0
ATTENTIVE_MAX = 0.25
STATUS_SECONDS = 0.5
# The listener's long poll stays within the AWS clients' read timeout.
LISTEN_RETRY_SECONDS = 1.0
BACKOFF_FIRST = 0.25
BACKOFF_MAX = 5.0
RESYNC_FILE = "resync.json"


def checkpoint_file(direction: Direction) -> str:
    return f"checkpoint-{direction.name}.json"


def status_file(direction: Direction) -> str:
    return f"status-{direction.name}.json"


class ResyncRequests:
    """Regions that came back empty and wait for a full copy, and when each copy
    finished; kept in a file so a request made just before a crash is not forgotten."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def _read(self) -> dict:
        data = json_read(RESYNC_FILE, {})
        return data if isinstance(data, dict) else {}

    def add(self, region: str) -> None:
        with self.lock:
            data = self._read()
            data["pending"] = sorted({*data.get("pending", []), region})
            json_write(RESYNC_FILE, data)

    def pending(self, region: str) -> bool:
        with self.lock:
            return region in self._read().get("pending", [])

    def done(self, region: str, *, finished_at: float) -> None:
        with self.lock:
            data = self._read()
            data["pending"] = sorted(set(data.get("pending", [])) - {region})
            data.setdefault("finished", {})[region] = finished_at
            json_write(RESYNC_FILE, data)

    def started(self, region: str, *, at: float) -> None:
        with self.lock:
            data = self._read()
            data.setdefault("started", {})[region] = at
            json_write(RESYNC_FILE, data)

    def started_at(self, region: str) -> float:
        with self.lock:
            return float(self._read().get("started", {}).get(region, 0.0))

    def finished_at(self, region: str) -> float:
        with self.lock:
            return float(self._read().get("finished", {}).get(region, 0.0))


class ControlReader:
    """The drill controls, re-read when the file changes."""

    def __init__(self) -> None:
        self.mtime: float | None = None
        self.controls: dict[str, Control] = {}

    def get(self, direction: Direction) -> Control:
        try:
            mtime = os.stat(state_dir() / CONTROL_FILE).st_mtime
        except FileNotFoundError:
            mtime = 0.0
        if mtime != self.mtime:
            self.controls = replication_controls_get()
            self.mtime = mtime
        return self.controls.get(direction.name, Control())


class DirectionWorker(threading.Thread):
    def __init__(self, direction: Direction, stop: threading.Event, resyncs: ResyncRequests):
        super().__init__(name=f"replicate {direction.name}", daemon=True)
        self.direction = direction
        self.stop_event = stop
        self.resyncs = resyncs
        self.controls = ControlReader()
        self.checkpoint = json_read(checkpoint_file(direction), {})
        tables = self.checkpoint.setdefault("tables", {})
        self.tables = [
            TableReplication(
                direction=direction, spec=spec, checkpoint=tables.setdefault(spec.key, {})
            )
            for spec in TABLES
        ]
        self.canary = next(t for t in self.tables if t.spec.key == CANARY_DATASET)
        self.media = MediaReplication(
            direction=direction, checkpoint=self.checkpoint.setdefault(MEDIA_DATASET, {})
        )
        self.backoff = 0.0
        self.idle = 0.0
        self.changed_at = -ATTENTIVE_SECONDS  # monotonic time of the last change read
        self.active = False  # the last round read a change other than a heartbeat
        self.wake = threading.Event()
        # Reads and applies of the datasets, one thread each.
        self.datasets_pool = ThreadPoolExecutor(
            max_workers=len(self.tables) + 1, thread_name_prefix=f"datasets {direction}"
        )
        self.status_at = 0.0
        self.resync_state: dict[str, object] = {}

    def run(self) -> None:
        threading.Thread(target=self.listen, name=f"listen {self.direction}", daemon=True).start()
        while not self.stop_event.is_set():
            progressed = self.step()
            self.write_status()
            if self.backoff:
                self.wait(self.backoff, wakeable=False)
            elif self.busy() and progressed:
                self.idle = 0.0
                self.changed_at = time.monotonic()
            else:
                self.idle = self.next_idle(now=time.monotonic())
                self.wait(self.idle, wakeable=True)
        self.write_status(force=True)

    def next_idle(self, *, now: float) -> float:
        """How long to wait after a round that made no progress."""
        if self.busy():
            return IDLE_FIRST
        ladder = min(IDLE_MAX, self.idle * 2 or IDLE_FIRST)
        if now - self.changed_at < ATTENTIVE_SECONDS:
            return min(ladder, ATTENTIVE_MAX)
        return ladder

    def busy(self) -> bool:
        """The last round read a change other than a heartbeat, or changes are still
        waiting (a backlog, or a delay the drill controls set)."""
        return (
            self.active
            or bool(self.media.messages or self.media.markers)
            or any(table.buffer for table in self.tables)
        )

    def wait(self, seconds: float, *, wakeable: bool) -> None:
        """Wait before the next round, writing the status meanwhile; a wakeable wait
        ends when the listener heard of a change (or on stop)."""
        end = time.monotonic() + seconds
        while not self.stop_event.is_set():
            remaining = end - time.monotonic()
            if remaining <= 0:
                break
            if wakeable and self.wake.wait(min(remaining, STATUS_SECONDS)):
                break
            if not wakeable:
                self.stop_event.wait(min(remaining, STATUS_SECONDS))
            self.write_status()
        self.wake.clear()

    def listen(self) -> None:
        """Long-poll the source's event queue and wake the direction's loop when
        something arrives (see MediaReplication.listen)."""
        controls = ControlReader()
        wait = max(0, int(settings.MRA_AWS_READ_TIMEOUT - 1.0))
        while not self.stop_event.is_set():
            if self.backoff:
                # A failing round resets what was received: let the messages stay in
                # the queue, visible, until the direction works again.
                self.stop_event.wait(min(self.backoff, IDLE_MAX))
                continue
            try:
                heard = self.media.listen(controls.get(self.direction), wait=wait)
            except AwsError:
                # The direction's loop reports the source's errors; listen again later.
                self.stop_event.wait(LISTEN_RETRY_SECONDS)
                continue
            if heard and (
                self.beats_here() or not heartbeats_only(heard, region=self.direction.source)
            ):
                self.wake.set()
            elif heard is None or not wait:
                self.stop_event.wait(IDLE_MAX)

    def beats_here(self) -> bool:
        """Whether the canary writes in the source region, as far as the last heartbeat
        read from its table tells (yes until one was read). The copies of the other
        region's heartbeats that this direction's counterpart writes here go nowhere:
        their events wait for the next round instead of waking one every second."""
        return not self.canary.last_read_echo

    def step(self) -> bool:
        """One round over every dataset; True when anything was applied.

        The canary's stream is read first and applied last, and not at all
        after another dataset failed: a heartbeat visible in the target then
        means that everything written before it has been applied too, which
        is what the drain check relies on.
        """
        control = self.controls.get(self.direction)
        failed = False
        if self.resyncs.pending(self.direction.target):
            failed = not self._resync()
        heartbeat = [self.canary]
        others: list[Dataset] = [t for t in self.tables if t is not self.canary] + [self.media]
        read_before = {table: len(table.buffer) for table in self.tables}
        # The heartbeat's stream first; then every other dataset at once, as each
        # read waits on the source region and none depends on another.
        healthy = {
            dataset: self._guarded(dataset, lambda d=dataset: self._poll(d, control))[0]
            for dataset in heartbeat
        }
        healthy.update(
            zip(
                others,
                self.datasets_pool.map(
                    lambda d: self._guarded(d, lambda: self._poll(d, control))[0], others
                ),
                strict=True,
            )
        )
        self.active = self.media.active or any(
            len(t.buffer) > read_before[t] for t in self.tables if t not in heartbeat
        )
        if self.active:
            # A sweep that starts after this change, for a drain that may wait on it.
            self.media.sweeper.want()
        # Read again after polling, so that a control set before a write always governs it.
        control = self.controls.get(self.direction)
        rebuilding = self.resyncs.pending(self.direction.source)
        for table in self.tables:
            table.rebuilt(
                in_progress=rebuilding, finished_at=self.resyncs.finished_at(self.direction.source)
            )
        if rebuilding:
            # Until the source holds the other region's data again, what it
            # writes (bootstrap seeds of an empty region) must not spread.
            control = dataclasses.replace(control, paused=True)
        # The other datasets apply at once (each keeps its own order), the heartbeat
        # after them all, and only when every one of them is healthy.
        ready = [dataset for dataset in others if healthy[dataset]]
        applied = dict(
            zip(
                ready,
                self.datasets_pool.map(
                    lambda d: self._guarded(d, lambda: d.apply_due(control)), ready
                ),
                strict=True,
            )
        )
        for dataset, (ok, _) in applied.items():
            healthy[dataset] = ok
        if all(healthy.values()):
            for dataset in heartbeat:
                applied[dataset] = self._guarded(dataset, lambda d=dataset: d.apply_due(control))
                healthy[dataset] = applied[dataset][0]
        progressed = any(bool(result) for _, result in applied.values())
        if progressed:
            json_write(checkpoint_file(self.direction), self.checkpoint)
        failed |= not all(healthy.values())
        self.backoff = min(BACKOFF_MAX, (self.backoff * 2) or BACKOFF_FIRST) if failed else 0.0
        return progressed

    def _poll(self, dataset: "Dataset", control: Control) -> None:
        if isinstance(dataset, MediaReplication):
            dataset.poll(control)
        elif dataset.poll():
            source = self.direction.source
            covered = dataset.stream_created_at() < self.resyncs.started_at(source)
            logger.warning(
                "%s: stream of %s was replaced; %s came back empty%s",
                self.direction,
                dataset.spec.name,
                source,
                "" if covered else ", re-synchronising it",
            )
            if not covered:
                # A copy that started after this table was re-created filled it already.
                self.resyncs.add(source)

    def _guarded(self, dataset: "Dataset", action: Callable[[], object]) -> tuple[bool, object]:
        """(True, result), or (False, None) with the error recorded and the dataset reset."""
        try:
            return True, action()
        except AwsError as exc:
            if dataset.stats.last_error != str(exc):
                logger.warning("%s: %s", self.direction, exc)
            dataset.stats.record_error(str(exc))
            dataset.reset()
            return False, None

    def _resync(self) -> bool:
        source, target = self.direction.source, self.direction.target
        started = time.time()
        self.resyncs.started(target, at=started)
        self.resync_state = {"state": "running", "started_at": _iso(started)}
        self.write_status(force=True)
        try:
            result = region_resync(
                source=source, target=target, authoritative=True, report=logger.info
            )
        except AwsError as exc:
            self.resync_state = {"state": "failed", "error": str(exc), "at": _iso(time.time())}
            logger.warning("%s: re-synchronisation failed: %s", self.direction, exc)
            return False
        self.resyncs.done(target, finished_at=time.time())
        self.resync_state = {
            "state": "done",
            "started_at": _iso(started),
            "finished_at": _iso(time.time()),
            "result": str(result),
        }
        logger.info("%s: re-synchronised: %s", self.direction, result)
        return True

    def write_status(self, *, force: bool = False) -> None:
        now = time.time()
        if not force and now - self.status_at < STATUS_SECONDS:
            return
        self.status_at = now
        control = self.controls.get(self.direction)
        since = control.lag_since
        datasets = {table.spec.key: table.stats.as_dict(since=since) for table in self.tables}
        datasets[MEDIA_DATASET] = self.media.stats.as_dict(since=since)
        json_write(
            status_file(self.direction),
            {
                "direction": self.direction.name,
                "source": self.direction.source,
                "target": self.direction.target,
                "updated_at": now,
                "paused": control.paused,
                "delay_seconds": control.delay_seconds,
                "lag_since": control.lag_since or None,
                "retrying_in_seconds": self.backoff,
                # Held while the source, back empty, is being refilled from the target.
                "rebuilding_source": self.resyncs.pending(self.direction.source),
                "resync": self.resync_state or None,
                "datasets": datasets,
            },
        )


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def replicator_run(*, stop: threading.Event) -> None:
    """Replicate both directions until `stop` is set."""
    resyncs = ResyncRequests()
    workers = [DirectionWorker(direction, stop, resyncs) for direction in directions_all()]
    for worker in workers:
        worker.start()
    for worker in workers:
        while worker.is_alive():
            if stop.is_set():
                worker.wake.set()
            worker.join(timeout=0.5)
