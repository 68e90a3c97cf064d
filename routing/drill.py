"""A failover drill of a local stack, its operator being the routing workflows.

The workflows run in this process with the settings pointed at the stack
being drilled (its AWS endpoints, sites and replicator state), as
`manage.py routing failover` would run there; the drill measures from the
outside, through the front door's HTTP API (or the regional sites').
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.test.utils import override_settings

from replication.canary import canary_lags
from replication.controls import replication_lag_mark
from replication.drill.client import Stack, StackUnavailable
from replication.drill.regionctl import RegionProcesses, region_processes
from replication.drill.runner import Drill

from .api import at_risk_data
from .selectors import clear_state_cache
from .services import routing_failback, routing_failover
from .transitions import TransitionRefused, TransitionUnknown, routing_state_current

# The writers' pace, all together: about the rate a drill of four writers had
# before the stack got faster (11 writes/s). Unpaced, four writers that write
# again as soon as they are answered keep both cores of a small machine busy
# whatever the stack's speed, which measures the machine rather than the stack.
DRILL_WRITE_RATE = 12.0

# How long a planned move may wait for the drain before it is refused.
DRAIN_WAIT_SECONDS = 60.0

WORKFLOWS = {"failover": routing_failover, "failback": routing_failback}


class StackOperator:
    """Runs the routing workflows against one stack, as its operator would."""

    def __init__(
        self, *, site_urls: dict[str, str], aws_endpoints: dict[str, str], state_dir: Path | None
    ) -> None:
        self.overrides: dict[str, Any] = {
            "MRA_AWS_ENDPOINTS": dict(aws_endpoints),
            "MRA_REGION_URLS": dict(site_urls),
        }
        if state_dir is not None:
            self.overrides["MRA_REPLICATION_STATE_DIR"] = Path(state_dir)

    def mark_lag(self, at: float) -> None:
        """Start the stack's replicator measuring lag at `at`, through its control file."""
        with override_settings(**self.overrides):
            replication_lag_mark(at=at)

    def prepare(self, *, via: str) -> None:
        """Look at the stack as an operator does before deciding: the state and each
        region's lag, as the console shows them. The AWS clients this makes (with the
        usual timeouts and with the fail-fast ones a forced move uses) stay open for
        the workflows, as they do in a console that is already open; a client is
        cached by its region, endpoint and role, so other settings never share one."""
        with override_settings(**self.overrides, MRA_REGION=via):
            clear_state_cache()
            try:
                routing_state_current()
                routing_state_current(force=True)
                canary_lags()
            finally:
                clear_state_cache()

    def __call__(
        self, workflow: str, *, via: str, force: bool, reason: str
    ) -> dict[str, Any] | None:
        with override_settings(**self.overrides, MRA_REGION=via):
            # The cached state belongs to whatever the settings named before.
            clear_state_cache()
            try:
                outcome = WORKFLOWS[workflow](
                    actor=f"{settings.MRA_DEMO_OPERATOR_USERNAME} (drill)",
                    reason=reason,
                    wait=0.0 if force else DRAIN_WAIT_SECONDS,
                    force=force,
                    via_region=via,
                )
            except TransitionRefused as refusal:
                raise StackUnavailable(
                    f"{workflow} via {via} refused ({refusal.code}): {refusal.detail}"
                ) from refusal
            except TransitionUnknown as unknown:
                raise StackUnavailable(
                    f"{workflow} via {via}: outcome unknown ({unknown.code}): {unknown.detail}"
                ) from unknown
            finally:
                clear_state_cache()
        at_risk = outcome.last.at_risk
        return at_risk_data(at_risk) if at_risk else None


def local_drill(
    *,
    site_urls: dict[str, str],
    aws_endpoints: dict[str, str],
    writers: int,
    duration: float,
    unplanned: bool,
    state_dir: Path | None = None,
    door_url: str | None = None,
    write_rate: float = DRILL_WRITE_RATE,
    report=lambda line: None,
) -> Drill:
    """A drill of the local stack as the demo users, the primary's emulator and
    site being the processes an unplanned drill freezes; `state_dir` is the stack's
    replicator state (default: this process's MRA_REPLICATION_STATE_DIR). With a
    `door_url` the writers and a reader go through the front door; without, the
    writers use the regional addresses. The writers together make `write_rate`
    writes a second (0: each writes as fast as it is answered)."""
    primary, secondary = settings.MRA_PRIMARY_REGION, settings.MRA_SECONDARY_REGION

    def outage() -> RegionProcesses:
        return region_processes(region=primary, urls=[aws_endpoints[primary], site_urls[primary]])

    operate = StackOperator(site_urls=site_urls, aws_endpoints=aws_endpoints, state_dir=state_dir)
    return Drill(
        stack=Stack(site_urls, door_url=door_url),
        primary=primary,
        secondary=secondary,
        user=(settings.MRA_DEMO_USERNAME, settings.MRA_DEMO_PASSWORD),
        operator=(settings.MRA_DEMO_OPERATOR_USERNAME, settings.MRA_DEMO_OPERATOR_PASSWORD),
        writers=writers,
        duration=duration,
        operate=operate,
        outage=outage if unplanned else None,
        via="door" if door_url else "regional",
        write_rate=write_rate,
        report=report,
    )
