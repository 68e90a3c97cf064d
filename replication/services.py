"""Changing replication: the drill controls of the local replicator, validated and audited."""

import math
from dataclasses import dataclass

from django.dispatch import Signal

from mra_site.aws.clients import is_emulated
from mra_site.errors import ApplicationError

from .controls import (
    MAX_DELAY_SECONDS,
    Control,
    replication_delay,
    replication_pause,
    replication_resume,
)
from .directions import Direction, UnknownDirection, direction_parse

CONTROL_ACTIONS = ("pause", "resume", "delay")

# Sent after every control change with actor, action, direction, detail and
# reason; the routing app records it in its audit log (routing.receivers).
control_changed = Signal()


class ControlRefused(ApplicationError):
    """A drill control that was not changed, with what to do instead."""

    code = "control_refused"
    status = 400


@dataclass(frozen=True)
class ControlChange:
    message: str
    controls: dict[str, Control]


def replication_control_set(
    *,
    action: str,
    direction: str | None,
    seconds: float | str | None = None,
    actor: str,
    reason: str = "",
) -> ControlChange:
    """Pause, resume or delay replication in one direction (both when None), audited."""
    if not is_emulated():
        raise ControlRefused(
            "Drill controls act on the local replicator only; on AWS, pause or delay "
            "replication with AWS Fault Injection Service."
        )
    if action not in CONTROL_ACTIONS:
        raise ControlRefused("Choose pause, resume or delay; reload the console and try again.")
    chosen = _direction(direction)
    where = f"replication {chosen or 'in both directions'}"
    if action == "delay":
        delay = _delay(seconds, chosen)
        controls = replication_delay(seconds=delay, direction=chosen)
        detail = f"delay {delay:g} s" if delay else "delay removed"
    elif action == "pause":
        controls = replication_pause(direction=chosen)
        detail = "paused"
    else:
        controls = replication_resume(direction=chosen)
        detail = "resumed"
    control_changed.send(
        sender=replication_control_set,
        actor=actor,
        action=action,
        direction=chosen.name if chosen else "both",
        detail=f"{where}: {detail}",
        reason=reason,
    )
    return ControlChange(
        message=f"{where[0].upper()}{where[1:]}: {detail}. The replicator picks it up at its "
        "next round.",
        controls=controls,
    )


def _direction(name: str | None) -> Direction | None:
    if not name:
        return None
    try:
        return direction_parse(name)
    except UnknownDirection as exc:
        raise ControlRefused(f"Not changed: {exc}.", field="direction") from exc


def _delay(seconds: float | str | None, direction: Direction | None) -> float:
    """The delay in seconds, from a number or the text of a form field."""
    raw = str(seconds).strip() if seconds is not None else ""
    try:
        delay = float(raw)
    except ValueError:
        delay = math.nan
    if not 0 <= delay <= MAX_DELAY_SECONDS:  # also false for nan and inf
        raise ControlRefused(
            f"Not changed: the delay for {direction or 'both directions'} must be a number of "
            f"seconds from 0 to {MAX_DELAY_SECONDS:g} (0 removes it), not {raw or 'empty'!r}.",
            field="seconds",
        )
    return delay
