"""What a drill measured: the RTO of each move, the writes acknowledged and lost,
the lag, and through the front door the failed writes and reads."""

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Phase:
    name: str
    command_at: float
    new_region: str
    first_write_at: float | None = None
    all_writers_at: float | None = None
    # When the operator's command returned: the transition itself, drain wait included.
    transition_done_at: float | None = None

    def transition_seconds(self) -> float | None:
        done = self.transition_done_at
        return None if done is None else round(done - self.command_at, 3)

    def rto(self, *, via: str) -> dict[str, float | None]:
        def since(moment: float | None) -> float | None:
            return None if moment is None else round(moment - self.command_at, 3)

        first_write = since(self.first_write_at)
        return {
            "to_first_write": first_write,
            "to_all_writers": since(self.all_writers_at),
            # What a front-door user sees: the operator's command to the first
            # write the door got accepted in the new region.
            "rto_door": first_write if via == "door" else None,
        }


@dataclass
class DrillReport:
    kind: str
    writers: int
    duration: float
    via: str = "door"
    # Writes a second the writers were paced at together; 0: a closed loop.
    pace: float = 0.0
    # Whether the replication lag covers exactly the drill (else the last minute).
    lag_since_start: bool = False
    phases: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)
    missing_after_settle: dict[str, int] = field(default_factory=dict)
    lost_at_failover: int | None = None
    lost_writes: list[str] = field(default_factory=list)
    at_risk: dict[str, Any] | None = None
    loss_matches_at_risk: bool | None = None
    lag_seconds: dict[str, float | None] = field(default_factory=dict)
    replication_lag_p99: dict[str, float | None] = field(default_factory=dict)
    # Unplanned: the same, read just before the outage; what the prediction uses,
    # since the lag after it is the outage's backlog.
    replication_lag_p99_before_outage: dict[str, float | None] = field(default_factory=dict)
    # Unplanned: acknowledged writes a second before the outage.
    write_rate: float | None = None
    # Through the door only: writes that did not end in a 201 after their
    # retries, by last status (421 always listed; its target is 0), the answers
    # waited out on the way, and what the reader through the door saw.
    door_write_failures: dict[str, int] | None = None
    door_write_retries: dict[str, int] | None = None
    reads: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lag_p99(self, dataset: str, *, before_outage: bool = False) -> float | None:
        """The worst direction's p99 lag of `dataset`: `media`, or `tables` (every table);
        over the whole drill, or up to the outage."""
        lags = self.replication_lag_p99_before_outage if before_outage else self.replication_lag_p99
        values = [
            value
            for name, value in lags.items()
            if value is not None and (name.endswith(" media") == (dataset == "media"))
        ]
        return max(values) if values else None

    def predicted_loss(self) -> float | None:
        """What a forced failover should lose: the write rate × the table lag p99 up to
        the outage."""
        lag = self.lag_p99("tables", before_outage=True)
        if self.write_rate is None or lag is None:
            return None
        return round(self.write_rate * lag, 1)

    def table(self) -> str:
        rows = [
            ("drill", self.kind),
            ("writers / duration", f"{self.writers} / {self.duration:.0f} s"),
            (
                "writers' pace",
                f"{self.pace:g} writes/s together" if self.pace else "as fast as answered",
            ),
            ("writers go", "through the front door" if self.via == "door" else "to the regions"),
        ]
        for phase in self.phases:
            if phase.get("transition_seconds") is not None:
                rows.append(
                    (f"transition {phase['name']} took", _secs(phase["transition_seconds"]))
                )
            rto = phase["rto"]
            rows.append(
                (
                    f"RTO {phase['name']} (→ {phase['new_region']})",
                    f"first write {_secs(rto['to_first_write'])}, "
                    f"all writers {_secs(rto['to_all_writers'])}",
                )
            )
            if rto.get("rto_door") is not None:
                rows.append((f"RTO through the door, {phase['name']}", _secs(rto["rto_door"])))
        rows.append(
            ("acknowledged writes", ", ".join(f"{k} {v}" for k, v in self.acknowledged.items()))
        )
        if self.lost_at_failover is not None:
            rows.append(("missing in the survivor at failover (RPO)", str(self.lost_at_failover)))
            rows.append(
                (
                    "predicted: write rate × table lag p99 before the outage",
                    f"{self.write_rate} /s × {_secs(self.lag_p99('tables', before_outage=True))} = "
                    f"{self.predicted_loss()}",
                )
            )
            rows.append(("loss within the reported at-risk window", str(self.loss_matches_at_risk)))
        rows.append(
            (
                "missing after settling",
                ", ".join(f"{k} {v}" for k, v in self.missing_after_settle.items()),
            )
        )
        rows.append(
            (
                "canary lag seen (max)",
                ", ".join(f"{k} {_secs(v)}" for k, v in self.lag_seconds.items()),
            )
        )
        window = "since the drill started" if self.lag_since_start else "over the last minute"
        rows.append(("replication lag p99 measured", window))
        for name, value in sorted(self.replication_lag_p99.items()):
            rows.append((f"replication lag p99 {name}", _secs(value)))
        rows.extend(self._door_rows())
        for error in self.errors:
            rows.append(("error", error))
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"{label.ljust(width)}  {value}" for label, value in rows)

    def _door_rows(self) -> list[tuple[str, str]]:
        rows = []
        if self.door_write_failures is not None:
            failures = dict(self.door_write_failures)
            rows.append(("writes through the door failed: 421", str(failures.pop("421", 0))))
            rows.append(
                (
                    "writes through the door failed: other",
                    ", ".join(f"{k} ×{v}" for k, v in failures.items()) or "0",
                )
            )
        if self.door_write_retries:
            rows.append(
                (
                    "answers waited out through the door",
                    ", ".join(f"{k} ×{v}" for k, v in self.door_write_retries.items()),
                )
            )
        if self.reads is not None:
            reads = self.reads
            rows.append(
                (
                    "reads through the door",
                    f"{reads['reads']}, failed {reads['failed']}{_by_status(reads)}, "
                    f"longest failed stretch {_secs(reads['longest_failed_stretch'])}",
                )
            )
        return rows


def _by_status(reads: dict[str, Any]) -> str:
    statuses = reads.get("failed_by_status") or {}
    return f" ({', '.join(f'{k} ×{v}' for k, v in statuses.items())})" if statuses else ""


def _secs(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"
