"""One guarded step of the routing state: a compare-and-set on `version`, audited.

Where a transition writes. The write gate (`fencing.guarded_write`) checks
each region's own replica, so a transition writes the state item in BOTH
regions itself (see `replicas`):

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
whether the region is still committing writes.

What a transition answers is what happened. Each one carries a random
`write_id`, stored in the state item (with `previous_write_id`, the id of
the record it replaced). When the authority's put gets no answer (a
timeout: the put may have committed) or is refused by its condition (a
retry of a put that had committed fails its own compare-and-set), the
authority's item is read again, and `outcome_of` decides: our write id →
changed; another change at our version → refused (version_conflict); still
the version we expected → the put is sent once more (same write id, fresh
stamp), and if that too goes unanswered, or the re-read itself gets no
answer, the outcome is unknown (TransitionUnknown, 503 `outcome_unknown`
with the version found). An unknown attempt is resolved by the next
transition attempt, which reads the state anyway: a second audit record,
`changed` or `refused`, names the attempt it resolves.
"""

import uuid
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from django.conf import settings

from mra_site.aws.clients import fail_fast, other_region, regions
from mra_site.aws.dynamodb import Attr, item_put, write_stamp
from mra_site.aws.errors import AwsError, ConditionFailed, RegionUnavailable
from mra_site.errors import ApplicationError
from mra_site.polling import poll
from mra_site.resources import table_name
from replication.canary import canary_lag
from replication.drain import AtRisk, DrainReport, drain_check, writes_at_risk

from .audit import audit_transition_record
from .replicas import Replicas, replica_catch_up_put, replica_holds_at_least, routing_replicas_read
from .selectors import (
    StateRecord,
    clear_state_cache,
    routing_history_list,
    state_item_read,
    state_record_from_item,
)
from .states import RoutingState

# Kept in the audit log and shown to operators; a paragraph, not a document.
REASON_MAX_LENGTH = 500


class TransitionRefused(ApplicationError):
    """A transition that did not happen; `code` is the API error, `status` the HTTP status."""

    status = 409

    def __init__(self, code: str, detail: str, *, status: int = 409) -> None:
        super().__init__(detail, code=code, status=status)


class TransitionUnknown(ApplicationError):
    """A transition whose write was sent but whose outcome could not be learned: the
    state may or may not have changed. 503 `outcome_unknown` with `version`, the
    version found on re-reading (None when even the re-read got no answer)."""

    code = "outcome_unknown"
    status = 503
    title = "Outcome unknown"
    retry_after = 5

    def __init__(self, detail: str, *, found_version: int | None) -> None:
        super().__init__(detail, extra={"version": found_version})
        self.found_version = found_version


Outcome = Literal["changed", "refused", "pending", "unknown"]


def outcome_of(found: Mapping[str, Any], *, attempted_version: int, write_id: str) -> Outcome:
    """What became of the write `write_id` of version `attempted_version`, judged from
    the state item `found` read since (the compare-and-set expected the version before).

    `changed`: the item is that write, or the one that replaced it names it as its
    previous record. `refused`: another write holds that version (or replaced it), so
    ours can never commit: its condition expects an older version. `pending`: the item
    is still older, so the write may yet land. `unknown`: the state has moved on too
    far to tell.
    """
    version = int(found["version"])
    if version < attempted_version:
        return "pending"
    if version == attempted_version:
        return "changed" if found.get("write_id") == write_id else "refused"
    if version == attempted_version + 1:
        return "changed" if found.get("previous_write_id") == write_id else "refused"
    return "unknown"


def reread_seconds() -> float:
    """How long a transition whose write went unanswered keeps trying to re-read the
    state: past the region breaker's cooldown, so that one read really is sent."""
    return settings.MRA_AWS_REGION_COOLDOWN + 1.0


@dataclass(frozen=True)
class TransitionResult:
    record: StateRecord
    previous: StateRecord
    forced: bool
    unreached: list[str] = field(default_factory=list)
    drain: DrainReport | None = None
    at_risk: AtRisk | None = None


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


def routing_state_current(*, force: bool = False) -> StateRecord:
    """The newest state record either replica holds; TransitionRefused (503) if none answers.
    For a forced move, a region that does not answer at once is taken for down."""
    with fail_fast() if force else nullcontext():
        replicas = routing_replicas_read()
    newest = replicas.newest()
    if newest is None:
        raise _nobody_answered(replicas)
    return state_record_from_item(newest)


def _nobody_answered(replicas: Replicas) -> TransitionRefused:
    return TransitionRefused(
        "region_unavailable",
        "No region answered with the routing state: "
        + "; ".join(replicas.errors.values() or ["run `python manage.py mra_bootstrap`"]),
        status=503,
    )


def routing_state_request(*, request: Mapping[str, Any], actor: str) -> TransitionResult:
    """One step as an operator asks for it, through the API's body or the console's form:
    {"state", "expected_version", "reason", "force"}, already validated."""
    return routing_state_transition(
        target=RoutingState(request["state"]),
        expected_version=request["expected_version"],
        actor=actor,
        reason=request["reason"],
        force=request["force"],
    )


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
    not_drained (409) or region_unavailable (503); TransitionUnknown (503) when the
    write was sent and neither its answer nor a re-read tells whether it committed.
    """
    attempt = _Attempt(
        target=target,
        expected_version=expected_version,
        actor=actor,
        reason=reason,
        force=force,
        via_region=via_region or settings.MRA_REGION,
    )
    try:
        result = attempt.run()
    except TransitionRefused as refusal:
        attempt.audit(outcome="refused", refusal=refusal)
        raise
    except TransitionUnknown as unknown:
        attempt.audit(outcome="unknown", unknown=unknown)
        raise
    attempt.audit(outcome="changed", result=result)
    return result


def unknown_outcomes_resolve(*, found: Mapping[str, Any], via_region: str) -> None:
    """Audit what became of earlier attempts whose outcome was unknown, now that the
    state item `found` has been read: one `changed` or `refused` record per attempt
    that can be told, naming it (`resolves`). Best effort: the audit log of
    `via_region` is read, and a region that does not answer leaves it for next time."""
    try:
        events = routing_history_list(region=via_region, limit=50)
    except AwsError:
        return
    resolved = {event.get("resolves") for event in events}
    for event in events:
        if event.get("outcome") != "unknown" or event["event_id"] in resolved:
            continue
        attempted = int(event["attempted_version"])
        outcome = outcome_of(found, attempted_version=attempted, write_id=event["write_id"])
        if outcome in ("pending", "unknown"):
            continue
        audit_transition_record(
            actor=event["actor"],
            via_region=via_region,
            outcome=outcome,
            from_state=event["from_state"],
            to_state=event["to_state"],
            expected_version=int(event["expected_version"]),
            reason=event["reason"],
            forced=bool(event["forced"]),
            details={
                "resolves": event["event_id"],
                "write_id": event["write_id"],
                "found_version": int(found["version"]),
                **({"version": attempted} if outcome == "changed" else {}),
                "detail": f"resolved: {outcome} at version {attempted} (the attempt of "
                f"{event['at']} whose outcome was unknown when it was answered).",
            },
        )


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
    write_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The version the attempt last saw: read before the write, or re-read after it.
    found_version: int | None = None

    def run(self) -> TransitionResult:
        # Forced: a region that does not answer at once is taken for down, not
        # waited on with the usual timeouts and retries.
        with fail_fast() if self.force else nullcontext():
            replicas = routing_replicas_read()
        newest = replicas.newest()
        if newest is None:
            raise _nobody_answered(replicas)
        if self.via_region not in replicas.errors:
            unknown_outcomes_resolve(found=newest, via_region=self.via_region)
        current = self.current = state_record_from_item(newest)
        self.found_version = current.version
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
                with fail_fast():
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
        item = self._commit(current, authority)
        unreached = [r for r in replicas.errors if r != authority]
        for region in regions():
            if region == authority or region in replicas.errors:
                continue
            try:
                replica_catch_up_put(region=region, item={**item, "mra_region": region})
            except ConditionFailed:
                if replica_holds_at_least(region=region, version=current.version + 1):
                    continue
                unreached.append(region)
            except AwsError:
                unreached.append(region)
        return state_record_from_item(item), unreached

    def _item(self, current: StateRecord, authority: str) -> dict[str, Any]:
        stamp = write_stamp(authority)
        item: dict[str, Any] = {
            "app_id": settings.MRA_APP_ID,
            "state": self.target.value,
            "version": current.version + 1,
            "updated_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "updated_by": self.actor,
            "reason": self.reason,
            "write_id": self.write_id,
            **stamp,
        }
        if current.write_id:
            item["previous_write_id"] = current.write_id
        if self.target is RoutingState.FENCED:
            item["fenced_from"] = current.writer_region
            item["fenced_at"] = stamp["mra_written_at"]
        return item

    def _commit(self, current: StateRecord, authority: str) -> dict[str, Any]:
        """The compare-and-set in the authority; the item as committed. A put left
        unanswered or refused is judged by re-reading (see the module's docstring)."""
        version = current.version + 1
        for resend in (False, True):
            item = self._item(current, authority)
            try:
                item_put(
                    region=authority,
                    table=table_name("state"),
                    item=item,
                    condition=Attr("version").eq(current.version)
                    & Attr("state").eq(current.state.value),
                    action="change routing state",
                )
                return item
            except (ConditionFailed, RegionUnavailable) as exc:
                error: AwsError = exc
            found = self._reread(authority)
            if found is None:
                raise TransitionUnknown(
                    f"{authority} did not answer while the state was being changed to "
                    f"{self.target.value} (version {version}), nor when it was read again: the "
                    "change may or may not have been made. Read the state before deciding "
                    f"again; the audit log will say what happened. ({error})",
                    found_version=None,
                )
            self.found_version = int(found["version"])
            outcome = outcome_of(found, attempted_version=version, write_id=self.write_id)
            if outcome == "changed":
                return found if found.get("write_id") == self.write_id else item
            if outcome == "refused" or isinstance(error, ConditionFailed):
                raise TransitionRefused(
                    "version_conflict",
                    f"Another change to the routing state won the race in {authority}: it is "
                    f"{found['state']} at version {found['version']}, not version "
                    f"{current.version}. Reload and decide again.",
                ) from error
            if outcome == "unknown":
                break
            # `pending`: still the version expected; the put is sent once more, with the
            # same write id, so that the first one, if it lands after all, fails its
            # condition instead of changing the state twice.
            if resend:
                break
        raise TransitionUnknown(
            f"{authority} did not confirm the change to {self.target.value} (version {version}) "
            f"and still holds version {self.found_version}: the change may yet be applied. "
            "Read the state before deciding again; the audit log will say what happened.",
            found_version=self.found_version,
        )

    def _reread(self, authority: str) -> dict[str, Any] | None:
        """The authority's state item, read again after a write that went unanswered."""
        try:
            return poll(
                lambda: state_item_read(region=authority),
                timeout=reread_seconds(),
                interval=0.25,
                what=f"routing state of {authority} read again",
                ignore=(AwsError,),
            )
        except TimeoutError:
            return None

    def audit(
        self,
        *,
        outcome: str,
        result: TransitionResult | None = None,
        refusal: TransitionRefused | None = None,
        unknown: TransitionUnknown | None = None,
    ) -> None:
        current = result.previous if result else self.current
        details: dict[str, Any] = {"found_version": self.found_version}
        if result:
            details["version"] = result.record.version
            details["write_id"] = result.record.write_id
            details["unreached_regions"] = result.unreached
            if result.drain:
                details["drain"] = result.drain.summary()
            if result.at_risk:
                details["at_risk"] = result.at_risk.summary()
                details["at_risk_writes"] = result.at_risk.writes
        if refusal:
            details["error"] = refusal.code
            details["detail"] = refusal.detail
        if unknown:
            details["error"] = unknown.code
            details["detail"] = unknown.detail
            details["found_version"] = unknown.found_version
            details["attempted_version"] = (current.version + 1) if current else None
            details["write_id"] = self.write_id
        audit_transition_record(
            actor=self.actor,
            via_region=self.via_region,
            outcome=outcome,
            from_state=current.state.value if current else "",
            to_state=self.target.value,
            expected_version=self.expected_version,
            reason=self.reason,
            forced=self.force,
            lag_seconds=self.lag_seconds,
            details=details,
        )
