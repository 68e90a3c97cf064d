"""What operators see about the routing layer: state, replicas, health, lag, choices.

Shared by the console page and `manage.py routing status`.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from mra_site.aws.clients import regions
from mra_site.cache import SingleFlightCache
from replication.canary import Heartbeat, RegionLag, canary_lags
from replication.drain import AtRisk, DrainReport, drain_check, writes_at_risk
from replication.status import replication_overview_get

from .health import RegionHealth, region_probes
from .replicas import Replicas, routing_replicas_read
from .selectors import StateRecord, state_record_from_item
from .states import RoutingState
from .transitions import transition_route

# The console polls every second or two; however many operators have it open,
# a site reads the state, the lag and the probes at most once a second.
LIVE_MAX_AGE_SECONDS = 1.0


@dataclass(frozen=True)
class Action:
    target: RoutingState
    label: str
    consequence: str
    needs_force: bool = False
    drain: DrainReport | None = None
    at_risk: AtRisk | None = None
    confirm_word: str = ""
    danger: bool = False
    heading: str = ""


@dataclass(frozen=True)
class DrainProgress:
    """How far a promotion's drain has got, in the canary's terms: which heartbeat it
    waits for and the target's lag, the same figures as the replication panel."""

    source: str
    target: str
    drained: bool
    headline: str
    heartbeat_written_at: str | None
    lag_seconds: float | None
    reasons: list[str]

    @property
    def direction(self) -> str:
        return f"{self.source}-to-{self.target}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "drained": self.drained,
            "headline": self.headline,
            "heartbeat_written_at": self.heartbeat_written_at,
            "lag_seconds": self.lag_seconds,
            "reasons": self.reasons,
        }


@dataclass
class Overview:
    record: StateRecord | None
    replicas: Replicas
    # Empty until probed: the page renders at once and its script fills them in.
    health: dict[str, RegionHealth]
    lags: dict[str, RegionLag]
    # Each region's canary lag at one instant: every place the console shows it.
    lag_seconds: dict[str, float | None] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    drain: DrainProgress | None = None
    # replication_overview_get(), when asked for: what GET /api/replication shows.
    replication: dict[str, Any] | None = None
    read_at: float = 0.0

    @property
    def rows(self) -> list[dict]:
        primary = settings.MRA_PRIMARY_REGION
        return [
            {
                "region": region,
                "role": "primary" if region == primary else "secondary",
                "health": self.health.get(region),
                "lag": self.lags[region],
                "lag_seconds": self.lag_seconds.get(region),
                "heartbeat_at": _moment(self.lags[region].oldest),
            }
            for region in regions()
        ]

    @property
    def stale_replicas(self) -> list[str]:
        if not self.record:
            return []
        return [
            region
            for region, item in self.replicas.items.items()
            if not item or int(item["version"]) < self.record.version
        ]


def routing_overview(
    *, with_actions: bool = True, with_replication: bool = False, with_probes: bool = True
) -> Overview:
    """Everything the console and `routing status` show, read concurrently: the page
    waits for the slowest region's /readyz once, not for each region in turn."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        replicas_f = pool.submit(routing_replicas_read)
        lags_f = pool.submit(canary_lags)
        health_f = pool.submit(region_probes) if with_probes else None
        replicas = replicas_f.result()
        lags = lags_f.result()
        health = health_f.result() if health_f else {}
    now_us = time.time_ns() // 1000
    lag_seconds = {region: lag.age_seconds(now_us) for region, lag in lags.items()}
    replication = (
        replication_overview_get(lags=lags, lag_seconds=lag_seconds) if with_replication else None
    )
    newest = replicas.newest()
    record = state_record_from_item(newest) if newest else None
    overview = Overview(
        record=record,
        replicas=replicas,
        health=health,
        lags=lags,
        lag_seconds=lag_seconds,
        replication=replication,
        read_at=now_us / 1_000_000,
    )
    if record and with_actions:
        overview.actions = actions_for(record, lags=lags)
        overview.drain = _drain_progress(record, overview)
    return overview


_live: SingleFlightCache[Overview] = SingleFlightCache()


def routing_overview_live() -> Overview:
    """routing_overview with probes and replication, shared by every poll of this
    process for LIVE_MAX_AGE_SECONDS."""
    return _live.get(
        "console",
        max_age=LIVE_MAX_AGE_SECONDS,
        load=lambda: routing_overview(with_replication=True),
    )


def routing_overview_live_clear() -> None:
    _live.clear()


def _moment(beat: Heartbeat | None) -> datetime | None:
    return datetime.fromtimestamp(beat.written_at / 1_000_000, UTC) if beat else None


def _clock(written_at_us: int) -> str:
    return datetime.fromtimestamp(written_at_us / 1_000_000, UTC).strftime("%H:%M:%S UTC")


def _iso(written_at_us: int) -> str:
    return datetime.fromtimestamp(written_at_us / 1_000_000, UTC).isoformat()


def _lag_text(seconds: float | None) -> str:
    return "unknown" if seconds is None else f"{seconds:.1f} s"


def _after_fence(beat: Heartbeat | None, *, source: str, fenced_at: int) -> bool:
    return beat is not None and beat.source_region == source and beat.written_at > fenced_at


def _awaited(
    report: DrainReport,
    *,
    held: Heartbeat | None,
    written: Heartbeat | None,
    fenced_at: int,
    lag: str,
) -> tuple[Heartbeat | None, str]:
    """The heartbeat a drain waits for (`written` in the source since the fence, or
    `held` by the target already) and the sentence that says where it is."""
    source, target = report.source, report.target
    if report.drained:
        return held, f"{target} holds everything {source} wrote before the fence — lag {lag}"
    if held is not None and _after_fence(held, source=source, fenced_at=fenced_at):
        still = "; ".join(report.reasons)
        reached = f"the heartbeat written at {_clock(held.written_at)} has reached {target}"
        return held, f"{reached} — lag {lag}; still waiting: {still}"
    if written is not None and _after_fence(written, source=source, fenced_at=fenced_at):
        awaited = f"the heartbeat written at {_clock(written.written_at)}"
        return written, f"waiting for {awaited} to reach {target} — lag {lag}"
    after = f"waiting for {source} to write a heartbeat after the fence ({_clock(fenced_at)})"
    return None, f"{after} — {target} lag {lag}"


def _drain_progress(record: StateRecord, overview: Overview) -> DrainProgress | None:
    """The drain a waiting promotion depends on, said the way the replication panel
    says it: the heartbeat awaited and the target's canary lag."""
    report = next((a.drain for a in overview.actions if a.drain is not None), None)
    if report is None or record.fenced_at is None:
        return None
    source, target, fenced_at = report.source, report.target, record.fenced_at
    lag = overview.lag_seconds.get(target)
    held = overview.lags[target].oldest
    written = overview.lags[source].table
    awaited, headline = _awaited(
        report, held=held, written=written, fenced_at=fenced_at, lag=_lag_text(lag)
    )
    return DrainProgress(
        source=source,
        target=target,
        drained=report.drained,
        headline=headline,
        heartbeat_written_at=_iso(awaited.written_at) if awaited else None,
        lag_seconds=lag,
        reasons=list(report.reasons),
    )


def actions_for(record: StateRecord, *, lags: dict[str, RegionLag] | None = None) -> list[Action]:
    """The transitions allowed from `record`, each with what it will do; `lags`, when
    given, are the canary reads the drain check uses instead of reading again."""
    actions = []
    for target in RoutingState:
        route = transition_route(record, target)
        if route is None:
            continue
        source, destination = route
        if target is RoutingState.FENCED:
            actions.append(
                Action(
                    target,
                    f"Fence {source}",
                    f"Writes stop at once in every region: uploads and comments answer 503 and "
                    f"pages disable them until the state moves on. {source} stops being writable; "
                    "nothing is promoted yet.",
                )
            )
            continue
        if source == destination:
            actions.append(
                Action(
                    target,
                    f"Unfence: reopen {destination}",
                    f"Abort the move: {destination} takes writes again, as before the fence. "
                    "Nothing changes region.",
                )
            )
            continue
        drain = drain_check(
            source=source,
            target=destination,
            fenced_at=record.fenced_at,
            lag=lags.get(destination) if lags else None,
        )
        verb = "Fail over" if target is RoutingState.FAILOVER else "Fail back"
        consequence = (
            f"{destination} becomes the writable region; {source} becomes read-only and sends "
            f"writers to {destination}. Pages move their users there."
        )
        if drain.drained:
            actions.append(
                Action(
                    target,
                    f"{verb} to {destination}",
                    consequence,
                    drain=drain,
                    heading=f"{verb} to {destination}",
                )
            )
        else:
            actions.append(
                Action(
                    target,
                    f"{verb} to {destination} (forced)",
                    consequence,
                    needs_force=True,
                    drain=drain,
                    at_risk=writes_at_risk(source=source, target=destination),
                    confirm_word=destination,
                    danger=True,
                    heading=f"{verb} to {destination}",
                )
            )
    return actions
