"""Functions Zappa calls on AWS: the scheduled canary (deploy/zappa_settings.json)
and one-off steps run with `zappa invoke STAGE mra_site.scheduled.NAME`."""

import threading
from typing import Any

from django.conf import settings

from replication.canary import canary_run
from routing.bootstrap import seed_state

# EventBridge schedules at most once a minute, so each invocation keeps the
# canary beating for the minute, returning this long before the next one starts.
CANARY_MINUTE_SECONDS = 55.0
# Time left for Lambda to return before the function's timeout.
CANARY_MARGIN_SECONDS = 3.0


def canary_minute(event: dict[str, Any] | None = None, context: Any = None) -> int:
    """Run the lag canary for up to a minute; returns the heartbeats attempted."""
    budget = CANARY_MINUTE_SECONDS
    if context is not None:
        remaining = context.get_remaining_time_in_millis() / 1000 - CANARY_MARGIN_SECONDS
        budget = min(budget, remaining)
    interval = settings.MRA_CANARY_INTERVAL_SECONDS
    # round() first: 0.5 // 0.1 is 4.0 in floating point.
    beats = max(1, int(round(budget / interval, 6)))
    return canary_run(interval=interval, stop=threading.Event(), beats=beats)


def routing_state_seed(event: dict[str, Any] | None = None, context: Any = None) -> list[str]:
    """Create the routing state record in this region unless it exists (first deployment).

    The stacks create the tables empty; `mra_bootstrap` is for the emulators
    and would rewrite what CloudFormation owns (bucket CORS, event queues).
    """
    return seed_state(region=settings.MRA_REGION, demo=False)
