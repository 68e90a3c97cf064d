"""Planned and unplanned failover drills, measured from the outside.

The drill holds no orchestration: an operator it is given (routing.drill wires
the routing workflows) fails over and back; the drill loads the stack with
writers over HTTP (through the front door, or on the regional addresses) and
measures what they, a reader through the door and the regions observe.
"""

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from mra_site.polling import poll

from .client import DOOR, Stack, StackUnavailable
from .reader import DoorReader, read_figures
from .regionctl import RegionProcesses
from .report import DrillReport, Phase
from .writers import Ack, DoorWriter, Writer, door_write_failures

VIA = ("door", "regional")

SETTLE_TIMEOUT = 30.0


class Operator(Protocol):
    """Runs a routing workflow (`failover` or `failback`) from region `via`; returns what
    a forced promotion may have lost (the API's `at_risk`), or None. Raises
    StackUnavailable when refused."""

    def __call__(
        self, workflow: str, *, via: str, force: bool, reason: str
    ) -> dict[str, Any] | None: ...

    def prepare(self, *, via: str) -> None:
        """Look at the state before the drill, as an operator does before acting."""

    def mark_lag(self, at: float) -> None:
        """Start the replicator's lag measurement at `at` (epoch seconds); OSError or
        ValueError where it cannot."""


class Drill:
    def __init__(
        self,
        *,
        stack: Stack,
        primary: str,
        secondary: str,
        user: tuple[str, str],
        operator: tuple[str, str],
        writers: int,
        duration: float,
        operate: Operator,
        outage: Callable[[], RegionProcesses] | None = None,
        via: str = "door",
        write_rate: float = 0.0,
        report: Callable[[str], None] = lambda line: None,
    ) -> None:
        if via not in VIA:
            raise ValueError(f"via must be one of {VIA}, not {via!r}")
        if via == "door" and stack.door_url is None:
            raise ValueError("a drill through the front door needs the stack's door_url")
        self.via = via
        self.stack = stack
        self.primary = primary
        self.secondary = secondary
        self.user = user
        self.operator = operator
        self.n_writers = writers
        self.duration = duration
        self.operate = operate
        self.outage = outage
        # Writes a second, all writers together; 0: each writes as fast as it is answered.
        self.write_rate = write_rate
        self.lag_marked_at: float | None = None
        self.lag_since_start = False
        self.say = report
        self.stop = threading.Event()
        self.writers: list[Writer] = []
        self.lags: dict[str, float | None] = {primary: None, secondary: None}
        self._operator_tokens: dict[str, str] = {}
        self._processes: RegionProcesses | None = None
        self.started_at = time.time()

    def _operator_token(self, region: str) -> str:
        if region not in self._operator_tokens:
            self._operator_tokens[region] = self.stack.token(region, *self.operator)
        return self._operator_tokens[region]

    # --- measuring ---------------------------------------------------------
    def _sample_lag(self) -> None:
        """The largest canary lag each region reported while the drill ran."""
        while not self.stop.wait(0.5):
            for region in self.stack.urls:
                try:
                    token = self._operator_token(region)
                except StackUnavailable:
                    continue
                answer = self.stack.request("GET", region, "/api/replication", token=token)
                if not answer.ok:
                    continue
                for lag_region, lag in (answer.body.get("canary") or {}).items():
                    seconds = (lag or {}).get("lag_seconds")
                    if isinstance(seconds, int | float):
                        current = self.lags.get(lag_region)
                        self.lags[lag_region] = (
                            seconds if current is None else max(current, seconds)
                        )

    def _start_lag_measurement(self) -> None:
        try:
            self.operate.mark_lag(self.started_at)
        except (OSError, ValueError) as exc:
            self.say(f"replication lag is read over the last minute: no mark ({exc})")
            return
        self.lag_marked_at = self.started_at

    def replication_lag(self) -> dict[str, float | None]:
        """p99 replication lag per direction and dataset since the drill started (its
        writes and settling) where the replicator took the drill's mark, else over the
        last minute, else over five minutes."""
        for region in self.stack.urls:
            answer = self.stack.request(
                "GET", region, "/api/replication", token=self._operator_token(region)
            )
            if answer.ok:
                directions = (answer.body.get("directions") or {}).values()
                self.lag_since_start = bool(directions) and all(
                    self.lag_marked_at is not None and d.get("lag_since") == self.lag_marked_at
                    for d in directions
                )
                return {
                    f"{name} {dataset}": self._lag_p99(stats)
                    for name, direction in (answer.body.get("directions") or {}).items()
                    for dataset, stats in (direction.get("datasets") or {}).items()
                }
        return {}

    def _lag_p99(self, stats: dict[str, Any]) -> float | None:
        if self.lag_since_start:
            return stats.get("lag_p99_since_mark_seconds")
        return stats.get("lag_p99_recent_seconds", stats.get("lag_p99_seconds"))

    def _all_acks(self) -> list[Ack]:
        return [ack for writer in self.writers for ack in writer.acks]

    def _measure(self, phase: Phase) -> None:
        """Fill in the phase's first write and all-writers times from the acks."""
        firsts = []
        for writer in self.writers:
            times = [
                a.acked_at
                for a in writer.acks
                if a.region == phase.new_region and a.acked_at >= phase.command_at
            ]
            firsts.append(min(times) if times else None)
        present = [t for t in firsts if t is not None]
        phase.first_write_at = min(present) if present else None
        phase.all_writers_at = max(present) if present and len(present) == len(firsts) else None

    def missing_in(self, region: str, acks: list[Ack]) -> list[Ack]:
        photos = {a.id for a in acks if a.kind == "photo"}
        held = self.stack.photo_ids(region, photos)
        comments = self.stack.comment_ids_of(
            region, {a.photo_id for a in acks if a.kind == "comment"}
        )
        return [
            a
            for a in acks
            if (a.kind == "photo" and a.id not in held)
            or (a.kind == "comment" and a.id not in comments[a.photo_id])
        ]

    def settle(self, regions: list[str], acks: list[Ack]) -> dict[str, list[Ack]]:
        """What each region still lacks once it holds every ack, or when SETTLE_TIMEOUT ends.

        Nothing the drill wrote is deleted, so a write a region was found holding
        is not asked for again: each pass asks only for what the last one missed."""
        missing: dict[str, list[Ack]] = {region: acks for region in regions}

        def all_there() -> bool:
            missing.update({region: self.missing_in(region, missing[region]) for region in regions})
            return not any(missing.values())

        with contextlib.suppress(TimeoutError):
            poll(all_there, timeout=SETTLE_TIMEOUT, what="every acknowledged write", interval=1.0)
        return missing

    # --- the scenario ---------------------------------------------------------
    def run(self, kind: str) -> DrillReport:
        report = DrillReport(
            kind=kind,
            writers=self.n_writers,
            duration=self.duration,
            via=self.via,
            pace=self.write_rate,
        )
        state = self.stack.state(prefer=self.primary)
        if state["state"] != "active":
            raise StackUnavailable(
                f"the drill starts from `active`, but the state is {state['state']!r}: "
                "fail back first (python manage.py routing failback)"
            )
        self._check_door()
        self.operate.prepare(via=self.primary)
        self.writers = self.new_writers()
        reader = DoorReader(stack=self.stack, stop=self.stop) if self.via == "door" else None
        sampler = threading.Thread(target=self._sample_lag, daemon=True)
        sampler.start()
        self.started_at = time.time()
        self._start_lag_measurement()
        for thread in [*self.writers, *([reader] if reader else [])]:
            thread.start()
        phases: list[Phase] = []
        try:
            time.sleep(self.duration / 3)
            if kind == "planned":
                phases.append(self._planned_failover())
            else:
                phases.append(self._unplanned_failover(report))
            time.sleep(self.duration / 3)
            phases.append(self._failback(kind))
            time.sleep(self.duration / 3)
        except StackUnavailable as exc:
            report.errors.append(str(exc))
        finally:
            self.stop.set()
            for writer in self.writers:
                writer.join(timeout=10)
            sampler.join(timeout=5)
            if reader is not None:
                reader.join(timeout=10)
            if self._processes is not None:
                self._processes.thaw()
        for phase in phases:
            self._measure(phase)
            report.phases.append(
                {
                    "name": phase.name,
                    "new_region": phase.new_region,
                    "rto": phase.rto(via=self.via),
                    "transition_seconds": phase.transition_seconds(),
                }
            )
        if self.via == "door":
            report.door_write_failures = door_write_failures(self.writers)
            report.door_write_retries = _retries(self.writers)
        if reader is not None:
            report.reads = read_figures(reader.reads)
        acks = self._all_acks()
        report.acknowledged = {
            "photos": sum(a.kind == "photo" for a in acks),
            "comments": sum(a.kind == "comment" for a in acks),
            "total": len(acks),
        }
        self.say("settling: waiting for both regions to hold every acknowledged write")
        missing = self.settle([self.primary, self.secondary], acks)
        report.missing_after_settle = {region: len(m) for region, m in missing.items()}
        report.lag_seconds = dict(self.lags)
        report.replication_lag_p99 = self.replication_lag()
        report.lag_since_start = self.lag_since_start
        return report

    def new_writers(self) -> list[Writer]:
        """The drill's writers as the demo user, not started; they stop with the drill."""
        interval = self.n_writers / self.write_rate if self.write_rate > 0 else 0.0
        if self.via == "regional":
            return [
                Writer(
                    i,
                    self.stack,
                    *self.user,
                    region=self.primary,
                    stop=self.stop,
                    interval=interval,
                )
                for i in range(self.n_writers)
            ]
        return [
            DoorWriter(i, self.stack, *self.user, region=DOOR, stop=self.stop, interval=interval)
            for i in range(self.n_writers)
        ]

    def _check_door(self) -> None:
        if self.via == "door" and not self.stack.through_door("GET", "/healthz").ok:
            raise StackUnavailable(
                f"the front door {self.stack.door_url} does not answer: start the local "
                "stack (scripts/start), or drill the regional addresses (--via regional)"
            )

    def _planned_failover(self) -> Phase:
        self.say(f"planned: fencing {self.primary}")
        phase = Phase("failover", time.time(), self.secondary)
        self.operate("failover", via=self.primary, force=False, reason="planned drill")
        phase.transition_done_at = time.time()
        return phase

    def _unplanned_failover(self, report: DrillReport) -> Phase:
        assert self.outage is not None
        self._processes = self.outage()
        processes = self._processes
        report.replication_lag_p99_before_outage = self.replication_lag()
        self.say(f"unplanned: freezing {self.primary} (pids {list(processes.pids)})")
        outage_at = time.time()
        processes.freeze()
        before_outage = [a for a in self._all_acks() if a.acked_at <= outage_at]
        phase = Phase("failover", time.time(), self.secondary)
        report.at_risk = self.operate(
            "failover", via=self.secondary, force=True, reason="unplanned drill: region lost"
        )
        phase.transition_done_at = time.time()
        acked = [a for a in before_outage if a.acked_at >= self.started_at]
        report.write_rate = round(len(acked) / max(outage_at - self.started_at, 1e-6), 3)
        # What the survivor lacks while the primary is gone is what a region
        # that never came back would have cost.
        time.sleep(1.0)
        lost = self.missing_in(self.secondary, before_outage)
        report.lost_at_failover = len(lost)
        report.lost_writes = [f"{a.kind} {a.id} acked {_iso(a.acked_at)}" for a in lost]
        since = (report.at_risk or {}).get("since")
        if since is not None:
            cutoff = datetime.fromisoformat(since).timestamp()
            # A write acknowledged before the newest heartbeat the survivor
            # held must be there; only later ones may be missing.
            report.loss_matches_at_risk = all(a.acked_at >= cutoff - 0.05 for a in lost)
        return phase

    def _failback(self, kind: str) -> Phase:
        if self._processes is not None:
            self.say(f"unplanned: {self.primary} comes back")
            self._processes.thaw()
            self.stack.wait_ready(self.primary, timeout=30)
        self.say(f"failing back to {self.primary}")
        phase = Phase("failback", time.time(), self.primary)
        self.operate("failback", via=self.secondary, force=False, reason=f"{kind} drill")
        phase.transition_done_at = time.time()
        return phase


def _retries(writers: list[Writer]) -> dict[str, int]:
    total: dict[str, int] = {}
    for writer in writers:
        for status, count in getattr(writer, "retried", {}).items():
            total[status] = total.get(status, 0) + count
    return dict(sorted(total.items()))


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="milliseconds")
