"""Changing the routing state: guarded transitions, each audited.

Where a transition writes. Each region reads the state from its own replica
of the state table, and the write gate (`fencing.guarded_write`) checks that
replica. Until replication carries the state item between regions (locally
nothing does; on AWS global tables do, within about a second), a transition
must therefore write the state item in BOTH regions itself:

1. First the *authority*: the region that is writing now (or, while fenced,
   the one that was: `fenced_from`). The compare-and-set on `version` happens
   there, so two operators racing from the same version meet in the same
   place and exactly one wins. Writing the writer first also makes a fence
   effective at once where writes are actually happening.
2. Then the other region, with a catch-up condition (`version` lower than
   the new one), which tolerates a replica that is behind or that
   replication has already updated with this very record.

A region that does not answer is reported in the result, not fatal, when
the transition is forced: for an unplanned failover the old writer is gone
and the compare-and-set moves to the surviving region. Without force an
unreachable authority refuses the transition, because nobody could tell
whether the region is still committing writes. A region that missed a
transition is brought up to date by `routing_state_reconcile` (run by the
canary every second) as soon as it answers again, before the region's own
stale replica can let it take writes.
"""

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

from mra_site.aws.clients import aws_call, dynamodb_table, other_region, regions
from mra_site.aws.dynamodb import write_stamp
from mra_site.aws.errors import AwsError, ConditionFailed, RegionUnavailable
from mra_site.errors import ApplicationError
from mra_site.resources import table_name
from replication.canary import canary_lag
from replication.drain import AtRisk, DrainReport, drain_check, writes_at_risk

from .selectors import StateRecord, clear_state_cache, state_item_read, state_record_from_item
from .states import RoutingState


class TransitionRefused(ApplicationError):
    """A transition that did not happen; `code` is the API error, `status` the HTTP status."""

    status = 409

    def __init__(self, code: str, detail: str, *, status: int = 409) -> None:
        super().__init__(detail, code=code, status=status)

    @property
    def error(self) -> str:
        return self.code


@dataclass(frozen=True)
class TransitionResult:
    record: StateRecord
    previous: StateRecord
    forced: bool
    unreached: list[str] = field(default_factory=list)
    drain: DrainReport | None = None
    at_risk: AtRisk | None = None


@dataclass(frozen=True)
class Replicas:
    """Each region's state item as read just now; `errors` names the regions that failed."""

    items: dict[str, dict[str, Any] | None]
    errors: dict[str, str]

    def newest(self) -> dict[str, Any] | None:
        present = [item for item in self.items.values() if item]
        return max(present, key=lambda item: int(item["version"]), default=None)


def routing_replicas_read() -> Replicas:
    """Read the state item from both regions' replicas, noting which did not answer."""
    items: dict[str, dict[str, Any] | None] = {}
    errors: dict[str, str] = {}
    for region in regions():
        try:
            items[region] = state_item_read(region=region)
        except AwsError as exc:
            errors[region] = str(exc)
    return Replicas(items=items, errors=errors)


def routing_state_reconcile() -> StateRecord | None:
    """Copy the newest state record to any replica holding an older one; return it.

    This is what a global table does on AWS; locally it repairs a region that
    missed a transition while it was down.
    """
    replicas = routing_replicas_read()
    newest = replicas.newest()
    if newest is None:
        return None
    for region, item in replicas.items.items():
        if item is not None and int(item["version"]) >= int(newest["version"]):
            continue
        try:
            _put_catch_up(region, newest)
        except AwsError:
            # Updated meanwhile, still down, or not provisioned yet: next round.
            continue
        clear_state_cache()
    return state_record_from_item(newest)


def _put_catch_up(region: str, item: dict[str, Any]) -> None:
    with aws_call(region, "update routing state replica"):
        dynamodb_table(region, table_name("state")).put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(app_id) OR version < :version",
            ExpressionAttributeValues={":version": item["version"]},
        )


def transition_route(current: StateRecord, target: RoutingState) -> tuple[str, str] | None:
    """(drain source, drain target) for an allowed transition, None if not allowed.

    Source and target are equal when nothing has to drain (fencing, or
    returning to the region that was writing before the fence).
    """
    primary, secondary = regions()
    if current.state is RoutingState.ACTIVE and target is RoutingState.FENCED:
        return primary, primary
    if current.state is RoutingState.FAILOVER and target is RoutingState.FENCED:
        return secondary, secondary
    if current.state is RoutingState.FENCED and target in (
        RoutingState.ACTIVE,
        RoutingState.FAILOVER,
    ):
        source = current.fenced_from or primary
        return source, target.writable_region() or primary
    return None


def _describe_routes(current: StateRecord) -> str:
    allowed = [s.value for s in RoutingState if transition_route(current, s)]
    return ", ".join(allowed)


def routing_state_transition(
    *,
    target: RoutingState,
    expected_version: int,
    actor: str,
    reason: str,
    force: bool = False,
    via_region: str | None = None,
) -> TransitionResult:
    """Move the state to `target` if it is still at `expected_version`; audit either way.

    Raises TransitionRefused: version_conflict, invalid_transition,
    not_drained (409) or region_unavailable (503).
    """
    via_region = via_region or settings.MRA_REGION
    attempt = _Attempt(
        target=target,
        expected_version=expected_version,
        actor=actor,
        reason=reason,
        force=force,
        via_region=via_region,
    )
    try:
        result = attempt.run()
    except TransitionRefused as refusal:
        attempt.audit(outcome="refused", refusal=refusal)
        raise
    attempt.audit(outcome="changed", result=result)
    return result


@dataclass
class _Attempt:
    target: RoutingState
    expected_version: int
    actor: str
    reason: str
    force: bool
    via_region: str
    current: StateRecord | None = None
    lag_seconds: float | None = None

    def run(self) -> TransitionResult:
        replicas = routing_replicas_read()
        newest = replicas.newest()
        if newest is None:
            raise TransitionRefused(
                "region_unavailable",
                "No region answered with the routing state: "
                + "; ".join(replicas.errors.values() or ["run `python manage.py mra_bootstrap`"]),
                status=503,
            )
        current = self.current = state_record_from_item(newest)
        authority = current.writer_region
        if authority in replicas.errors:
            if not self.force:
                raise TransitionRefused(
                    "region_unavailable",
                    f"{authority} is writing (or was, before the fence) and did not answer, so "
                    "nobody can tell whether it still commits writes. Check it, or force the "
                    f"transition to go ahead without it. ({replicas.errors[authority]})",
                    status=503,
                )
            authority = other_region(authority)
        if self.expected_version != current.version:
            raise TransitionRefused(
                "version_conflict",
                f"The state changed meanwhile: it is {current.state.value} at version "
                f"{current.version}, not version {self.expected_version}. Reload and decide again.",
            )
        route = transition_route(current, self.target)
        if route is None:
            raise TransitionRefused(
                "invalid_transition",
                f"{current.state.value} → {self.target.value} is not an allowed transition; "
                f"from {current.state.value} the state may move to: {_describe_routes(current)}.",
            )
        source, drain_target = route
        drain = at_risk = None
        if source != drain_target:
            drain = drain_check(source=source, target=drain_target, fenced_at=current.fenced_at)
            self.lag_seconds = drain.lag_seconds
            if not drain.drained:
                if not self.force:
                    raise TransitionRefused(
                        "not_drained",
                        drain.summary() + ". Wait for the drain, or force the transition "
                        "and accept losing what has not replicated.",
                    )
                at_risk = writes_at_risk(source=source, target=drain_target)
        else:
            self.lag_seconds = canary_lag(region=other_region(source)).age_seconds()
        record, unreached = self._write(current, authority, replicas)
        clear_state_cache()
        return TransitionResult(
            record=record,
            previous=current,
            forced=self.force,
            unreached=unreached,
            drain=drain,
            at_risk=at_risk,
        )

    def _write(
        self, current: StateRecord, authority: str, replicas: Replicas
    ) -> tuple[StateRecord, list[str]]:
        stamp = write_stamp(authority)
        item: dict[str, Any] = {
            "app_id": settings.MRA_APP_ID,
            "state": self.target.value,
            "version": current.version + 1,
            "updated_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "updated_by": self.actor,
            "reason": self.reason,
            **stamp,
        }
        if self.target is RoutingState.FENCED:
            item["fenced_from"] = current.writer_region
            item["fenced_at"] = stamp["mra_written_at"]
        try:
            with aws_call(authority, "change routing state"):
                dynamodb_table(authority, table_name("state")).put_item(
                    Item=item,
                    ConditionExpression="version = :expected AND #state = :from",
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={
                        ":expected": current.version,
                        ":from": current.state.value,
                    },
                )
        except ConditionFailed as exc:
            raise TransitionRefused(
                "version_conflict",
                f"Another change to the routing state won the race in {authority}: version "
                f"{current.version} is no longer current. Reload and decide again.",
            ) from exc
        except RegionUnavailable as exc:
            raise TransitionRefused(
                "region_unavailable",
                f"{authority} did not answer while the state was being changed; nothing changed "
                f"there. Try again. ({exc})",
                status=503,
            ) from exc
        unreached = [r for r in replicas.errors if r != authority]
        for region in regions():
            if region == authority or region in replicas.errors:
                continue
            try:
                _put_catch_up(region, {**item, "mra_region": region})
            except ConditionFailed:
                if _holds_at_least(region, current.version + 1):
                    continue
                unreached.append(region)
            except AwsError:
                unreached.append(region)
        return state_record_from_item(item), unreached

    def audit(
        self,
        *,
        outcome: str,
        result: TransitionResult | None = None,
        refusal: TransitionRefused | None = None,
    ) -> None:
        now_us = time.time_ns() // 1000
        current = result.previous if result else self.current
        event: dict[str, Any] = {
            "app_id": settings.MRA_APP_ID,
            "event_id": f"{now_us:020d}#{uuid.uuid4().hex[:8]}",
            "at": datetime.fromtimestamp(now_us / 1_000_000, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "actor": self.actor,
            "via_region": self.via_region,
            "outcome": outcome,
            "from_state": current.state.value if current else "",
            "to_state": self.target.value,
            "expected_version": self.expected_version,
            "reason": self.reason,
            "forced": self.force,
        }
        if self.lag_seconds is not None:
            event["lag_seconds"] = Decimal(str(round(self.lag_seconds, 3)))
        if result:
            event["version"] = result.record.version
            event["unreached_regions"] = result.unreached
            if result.drain:
                event["drain"] = result.drain.summary()
            if result.at_risk:
                event["at_risk"] = result.at_risk.summary()
                event["at_risk_writes"] = result.at_risk.writes
        if refusal:
            event["error"] = refusal.error
            event["detail"] = refusal.detail
        _audit_put(event, now_us=now_us)


def replication_control_audit(
    *, actor: str, action: str, direction: str, detail: str, reason: str = ""
) -> None:
    """Record a replication drill control (pause, resume, delay) in the routing audit log,
    beside the transitions it affects; `kind` tells the two apart."""
    now_us = time.time_ns() // 1000
    _audit_put(
        {
            "app_id": settings.MRA_APP_ID,
            "event_id": f"{now_us:020d}#{uuid.uuid4().hex[:8]}",
            "at": datetime.fromtimestamp(now_us / 1_000_000, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "kind": "replication_control",
            "actor": actor,
            "via_region": settings.MRA_REGION,
            "outcome": "changed",
            "from_state": "",
            "to_state": "",
            "expected_version": 0,
            "forced": False,
            "action": action,
            "direction": direction,
            "detail": detail,
            "reason": reason,
        },
        now_us=now_us,
    )


def _audit_put(event: dict[str, Any], *, now_us: int) -> None:
    """The event into every region's audit table that answers; the log must not block a
    change in a drill where a region is down."""
    for region in regions():
        try:
            with aws_call(region, "write routing audit event"):
                dynamodb_table(region, table_name("audit")).put_item(
                    Item={**event, **write_stamp(region), "mra_written_at": now_us}
                )
        except AwsError:
            continue


def _holds_at_least(region: str, version: int) -> bool:
    try:
        item = state_item_read(region=region)
    except AwsError:
        return False
    return bool(item) and int(item["version"]) >= version
