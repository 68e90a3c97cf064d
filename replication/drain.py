"""Is a region drained: does it hold everything the writing region wrote before the fence?

A region counts as drained when a canary heartbeat written by the source
region after the fence is visible in it, in the table and in the bucket
(replication keeps per-path order closely enough that this means earlier
writes have landed too), the settle time has passed since the fence, and,
on AWS, CloudWatch shows nothing pending, or locally the replicator reports
nothing pending and has read the source since the fence. Tests and the
running stack take the same path; which check applies depends only on
whether the region is emulated.
"""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from mra_site.aws import cloudwatch
from mra_site.aws.clients import is_emulated
from mra_site.aws.dynamodb import Attr, items_scan
from mra_site.aws.errors import AwsError
from mra_site.resources import TABLES, media_bucket, table_name

from .canary import Heartbeat, RegionLag, canary_lag
from .status import drain_check as replicator_drain_reasons

AT_RISK_LIMIT = 50
# The settle time on AWS unless MRA_DRAIN_SETTLE_SECONDS says otherwise: global
# tables order no two items, so a heartbeat that arrived does not prove that an
# earlier write did, and CloudWatch's figures come a minute at a time.
AWS_SETTLE_SECONDS = 1.0


def settle_seconds(target: str) -> float:
    """How long after the fence `target` may count as drained at the earliest. An
    emulated region needs no margin: the local replicator reports exactly what it
    has read and applied since the fence, and the drain check requires that too."""
    configured = settings.MRA_DRAIN_SETTLE_SECONDS
    if configured is not None:
        return float(configured)
    return 0.0 if is_emulated(target) else AWS_SETTLE_SECONDS


@dataclass(frozen=True)
class DrainReport:
    source: str
    target: str
    drained: bool
    reasons: list[str]
    lag_seconds: float | None
    metrics: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        if self.drained:
            return f"{self.target} holds everything {self.source} wrote before the fence."
        return f"{self.target} is not drained: " + "; ".join(self.reasons)


def _fmt_us(us: int) -> str:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).isoformat(timespec="milliseconds")


def _path_reason(path: str, beat: Heartbeat | None, *, source: str, fenced_at: int) -> str | None:
    if beat is None:
        return f"its {path} holds no heartbeat from {source} yet"
    if beat.source_region != source or beat.written_at <= fenced_at:
        return (
            f"the newest heartbeat in its {path} was written at {_fmt_us(beat.written_at)}, "
            "before the fence"
        )
    return None


def drain_check(
    *, source: str, target: str, fenced_at: int | None, lag: RegionLag | None = None
) -> DrainReport:
    """Whether `target` holds every write `source` made before the fence at `fenced_at`;
    `lag`, when given, is `target`'s canary read already made by the caller."""
    if source == target:
        return DrainReport(source, target, True, [], 0.0)
    if fenced_at is None:
        return DrainReport(source, target, False, ["the state record has no fence time"], None)
    lag = canary_lag(region=target) if lag is None else lag
    if lag.error:
        return DrainReport(source, target, False, [f"{target} did not answer: {lag.error}"], None)
    reasons = [
        reason
        for reason in (
            _path_reason("table", lag.table, source=source, fenced_at=fenced_at),
            _path_reason("bucket", lag.bucket, source=source, fenced_at=fenced_at),
        )
        if reason
    ]
    if reasons and is_emulated(target):
        reasons.append(
            f"nothing has copied {source}'s writes to {target} since the fence; "
            "locally that is the replicator's job (`python manage.py replicate`)"
        )
    waited = (time.time_ns() // 1000 - fenced_at) / 1_000_000
    settle = settle_seconds(target)
    if waited < settle:
        reasons.append(f"settling: {waited:.1f} s of {settle:g} s since the fence")
    metrics: dict[str, Any] = {}
    if is_emulated(target):
        reasons += replicator_drain_reasons(source=source, target=target, fenced_at=fenced_at)
    if not is_emulated(source):
        metrics, metric_reasons = _cloudwatch(source=source, target=target)
        reasons += metric_reasons
    return DrainReport(source, target, not reasons, reasons, lag.age_seconds(), metrics)


def _cloudwatch(*, source: str, target: str) -> tuple[dict[str, Any], list[str]]:
    try:
        metrics = cloudwatch.replication_metrics(
            source=source,
            target=target,
            buckets=(media_bucket(source), media_bucket(target)),
            tables=[spec.name for spec in TABLES],
        )
    except AwsError as exc:
        return {"error": str(exc)}, []
    reasons = []
    if metrics["s3_pending"]:
        reasons.append(f"S3 reports {metrics['s3_pending']:g} objects pending replication")
    return metrics, reasons


@dataclass(frozen=True)
class AtRisk:
    """What a forced promotion may lose: writes `source` made that `target` may lack."""

    source: str
    target: str
    since_us: int | None
    writes: list[str]
    complete: bool
    note: str

    def summary(self) -> str:
        if self.since_us is None:
            return self.note
        listed = f" ({len(self.writes)}{'' if self.complete else '+'} found)" if self.writes else ""
        return f"{self.note}{listed}"


def writes_at_risk(*, source: str, target: str) -> AtRisk:
    """The writes `source` made after the newest heartbeat `target` holds.

    A forced promotion is rare and operator-only, so this may scan the photos
    table of the source (when it answers) to name the writes.
    """
    if source == target:
        return AtRisk(source, target, 0, [], True, "nothing: the same region keeps writing")
    lag = canary_lag(region=target)
    since = lag.oldest.written_at if lag.oldest else None
    if since is None:
        return AtRisk(
            source,
            target,
            None,
            [],
            False,
            f"{target} holds no heartbeat from {source}: every write made in {source} "
            "may be missing there",
        )
    note = f"writes made in {source} after {_fmt_us(since)} may be missing in {target}"
    try:
        items, complete = items_scan(
            region=source,
            table=table_name("photos"),
            where=Attr("mra_written_at").gt(since) & Attr("mra_region").eq(source),
            attributes=("pk", "sk"),
            limit=AT_RISK_LIMIT,
            action="list writes at risk",
        )
    except AwsError as exc:
        return AtRisk(source, target, since, [], False, f"{note} ({source} did not answer: {exc})")
    keys = [f"{item['pk']} {item['sk']}" for item in items]
    return AtRisk(source, target, since, keys, complete, note)
