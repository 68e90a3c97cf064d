"""The application state and what it allows."""

import enum

from django.conf import settings


class RoutingState(enum.StrEnum):
    ACTIVE = "active"
    FENCED = "fenced"
    FAILOVER = "failover"

    def writable_region(self) -> str | None:
        """The region that takes writes in this state, if any."""
        if self is RoutingState.ACTIVE:
            return settings.MRA_PRIMARY_REGION
        if self is RoutingState.FAILOVER:
            return settings.MRA_SECONDARY_REGION
        return None


def state_allowing_writes_in(region: str) -> RoutingState:
    """The one state in which `region` may commit writes."""
    if region == settings.MRA_PRIMARY_REGION:
        return RoutingState.ACTIVE
    return RoutingState.FAILOVER
