"""What operators see about the routing layer: state, replicas, health, lag, choices.

Shared by the console page and `manage.py routing status`.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings

from mra_site.aws.clients import regions
from replication.canary import RegionLag, canary_lags
from replication.drain import AtRisk, DrainReport, drain_check, writes_at_risk
from replication.status import replication_overview_get

from .replicas import Replicas, routing_replicas_read
from .selectors import StateRecord, state_record_from_item
from .states import RoutingState
from .transitions import transition_route


@dataclass(frozen=True)
class RegionHealth:
    region: str
    url: str
    ready: bool
    detail: str


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


@dataclass
class Overview:
    record: StateRecord | None
    replicas: Replicas
    health: dict[str, RegionHealth]
    lags: dict[str, RegionLag]
    actions: list[Action] = field(default_factory=list)
    # replication_overview_get(), when asked for: what GET /api/replication shows.
    replication: dict[str, Any] | None = None

    @property
    def rows(self) -> list[dict]:
        primary = settings.MRA_PRIMARY_REGION
        return [
            {
                "region": region,
                "role": "primary" if region == primary else "secondary",
                "health": self.health[region],
                "lag": self.lags[region],
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


def region_health(*, region: str) -> RegionHealth:
    """The region's site's /readyz, fetched with a short timeout."""
    url = settings.MRA_REGION_URLS.get(region, "")
    if not url:
        return RegionHealth(region, url, False, "no site URL configured (MRA_REGION_URLS)")
    try:
        response = requests.get(
            f"{url.rstrip('/')}/readyz", timeout=settings.MRA_HEALTH_TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        return RegionHealth(region, url, False, f"site did not answer ({type(exc).__name__})")
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200:
        return RegionHealth(region, url, True, "ready")
    return RegionHealth(
        region, url, False, body.get("detail") or f"/readyz answered {response.status_code}"
    )


def routing_overview(*, with_actions: bool = True, with_replication: bool = False) -> Overview:
    """Everything the console and `routing status` show, read concurrently: the page
    waits for the slowest region's /readyz once, not for each region in turn."""
    with ThreadPoolExecutor(max_workers=5) as pool:
        replicas_f = pool.submit(routing_replicas_read)
        lags_f = pool.submit(canary_lags)
        health_f = {r: pool.submit(region_health, region=r) for r in regions()}
        replication_f = pool.submit(replication_overview_get) if with_replication else None
        replicas = replicas_f.result()
        lags = lags_f.result()
        health = {r: f.result() for r, f in health_f.items()}
        replication = replication_f.result() if replication_f else None
    newest = replicas.newest()
    record = state_record_from_item(newest) if newest else None
    overview = Overview(
        record=record, replicas=replicas, health=health, lags=lags, replication=replication
    )
    if record and with_actions:
        overview.actions = actions_for(record)
    return overview


def actions_for(record: StateRecord) -> list[Action]:
    """The transitions allowed from `record`, each with what it will do."""
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
        drain = drain_check(source=source, target=destination, fenced_at=record.fenced_at)
        verb = "Fail over" if target is RoutingState.FAILOVER else "Fail back"
        consequence = (
            f"{destination} becomes the writable region; {source} becomes read-only and sends "
            f"writers to {destination}. Pages move their users there."
        )
        if drain.drained:
            actions.append(Action(target, f"{verb} to {destination}", consequence, drain=drain))
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
                )
            )
    return actions
