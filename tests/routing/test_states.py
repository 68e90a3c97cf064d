"""The routing states and the region each lets write: plain values, no emulator."""

import pytest

from routing.states import RoutingState, state_allowing_writes_in
from tests.conftest import PRIMARY, SECONDARY


@pytest.fixture(autouse=True)
def regions(settings):
    settings.MRA_PRIMARY_REGION = PRIMARY
    settings.MRA_SECONDARY_REGION = SECONDARY


@pytest.mark.parametrize(
    ("state", "writer"),
    [
        (RoutingState.ACTIVE, PRIMARY),
        (RoutingState.FENCED, None),
        (RoutingState.FAILOVER, SECONDARY),
    ],
)
def test_each_state_lets_at_most_one_region_write(state, writer):
    assert state.writable_region() == writer


@pytest.mark.parametrize("region", [PRIMARY, SECONDARY])
def test_the_state_allowing_writes_in_a_region_names_that_region(region):
    assert state_allowing_writes_in(region).writable_region() == region


def test_states_parse_from_their_stored_names():
    assert [RoutingState(name) for name in ("active", "fenced", "failover")] == list(RoutingState)
