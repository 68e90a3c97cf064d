"""Routing workflows: fence, unfence, fail over, fail back.

The CLI, the console, the API and the drill all call these; each step is one
compare-and-set of `transitions.routing_state_transition`, audited whether it
changed the state or was refused.
"""

import logging
import time
from dataclasses import dataclass
from typing import TypedDict, Unpack

from django.conf import settings

from mra_site.aws.clients import fail_fast
from mra_site.aws.errors import AwsError
from mra_site.polling import poll
from replication.canary import heartbeat_write
from replication.drain import drain_check

from .selectors import StateRecord
from .states import RoutingState, state_allowing_writes_in
from .transitions import (
    TransitionRefused,
    TransitionResult,
    routing_state_current,
    routing_state_transition,
    transition_route,
)

logger = logging.getLogger(__name__)

# Often enough that a promotion follows the drain closely, rarely enough to
# leave the emulators alone.
DRAIN_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class WorkflowResult:
    """The transitions a workflow made, in order; the last one holds the state now."""

    steps: list[TransitionResult]

    @property
    def last(self) -> TransitionResult:
        return self.steps[-1]


class WorkflowOptions(TypedDict, total=False):
    """What every workflow also takes: force past a drain or a silent region, the version
    the caller saw (the API's compare-and-set; default: the newest replica's), and the
    region acting (default: MRA_REGION)."""

    force: bool
    expected_version: int | None
    via_region: str | None


@dataclass(frozen=True)
class _Request:
    actor: str
    reason: str
    force: bool = False
    expected_version: int | None = None
    via_region: str | None = None

    def step(self, target: RoutingState, version: int) -> TransitionResult:
        return routing_state_transition(
            target=target,
            expected_version=version,
            actor=self.actor,
            reason=self.reason,
            force=self.force,
            via_region=self.via_region,
        )

    def version(self, current: StateRecord) -> int:
        return self.expected_version or current.version


def routing_fence(*, actor: str, reason: str, **options: Unpack[WorkflowOptions]) -> WorkflowResult:
    """Stop writes in every region (`active` or `failover` → `fenced`)."""
    request = _Request(actor, reason, **options)
    current = routing_state_current()
    if current.state is RoutingState.FENCED:
        raise TransitionRefused(
            "invalid_transition",
            f"already fenced (version {current.version}, from {current.fenced_from}).",
        )
    return WorkflowResult([request.step(RoutingState.FENCED, request.version(current))])


def routing_unfence(
    *, actor: str, reason: str, **options: Unpack[WorkflowOptions]
) -> WorkflowResult:
    """Abort a move: reopen the region that was writing before the fence."""
    request = _Request(actor, reason, **options)
    current = routing_state_current()
    if current.state is not RoutingState.FENCED:
        raise TransitionRefused(
            "invalid_transition", f"not fenced: the state is {current.state.value}."
        )
    back = state_allowing_writes_in(current.fenced_from or settings.MRA_PRIMARY_REGION)
    return WorkflowResult([request.step(back, request.version(current))])


def routing_failover(
    *, actor: str, reason: str, wait: float = 0.0, **options: Unpack[WorkflowOptions]
) -> WorkflowResult:
    """Make the secondary writable: fence, wait up to `wait` s for the drain, promote."""
    return _promote(RoutingState.FAILOVER, _Request(actor, reason, **options), wait=wait)


def routing_failback(
    *, actor: str, reason: str, wait: float = 0.0, **options: Unpack[WorkflowOptions]
) -> WorkflowResult:
    """Make the primary writable again: fence, wait up to `wait` s for the drain, promote."""
    return _promote(RoutingState.ACTIVE, _Request(actor, reason, **options), wait=wait)


def _promote(target: RoutingState, request: _Request, *, wait: float) -> WorkflowResult:
    current = routing_state_current(force=request.force)
    if current.state is target:
        raise TransitionRefused(
            "invalid_transition",
            f"{target.writable_region()} is already writable ({current.state.value}).",
        )
    steps: list[TransitionResult] = []
    version = request.version(current)
    if current.state is not RoutingState.FENCED:
        steps.append(request.step(RoutingState.FENCED, version))
        current = steps[-1].record
        version = current.version
    if wait > 0 and not request.force:
        _drain_wait(current, target, timeout=wait)
    try:
        steps.append(request.step(target, version))
    except TransitionRefused as refusal:
        if steps:
            refusal.detail += " The fence stays: writes are paused until the promotion or unfence."
        raise
    return WorkflowResult(steps)


def _drain_wait(current: StateRecord, target: RoutingState, *, timeout: float) -> None:
    """Wait until the drain check passes; the promotion that follows says why if it did not."""
    route = transition_route(current, target)
    if route is None:
        return
    source, destination = route
    if source != destination:
        _heartbeat_after_fence(source)
    try:
        poll(
            lambda: (
                drain_check(source=source, target=destination, fenced_at=current.fenced_at).drained
            ),
            timeout=timeout,
            what=f"{destination} drained of {source}'s writes",
            interval=DRAIN_POLL_SECONDS,
        )
    except TimeoutError:
        return


def _heartbeat_after_fence(region: str) -> None:
    """Write a heartbeat in the fenced `region` now: the drain waits for one written
    after the fence, which the canary would otherwise write up to an interval later.
    Best effort, and quick to give up on a region that does not answer: without it
    the canary's next heartbeat serves."""
    try:
        with fail_fast():
            heartbeat_write(region=region, seq=time.time_ns() // 1000)
    except AwsError as exc:
        logger.info("no heartbeat written after the fence in %s: %s", region, exc)
