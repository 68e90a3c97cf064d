from mra_site.aws.clients import dynamodb_table
from mra_site.resources import table_name
from routing.bootstrap import seed_state
from routing.replicas import routing_state_reconcile, routing_writer_region
from routing.selectors import routing_state_get
from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import move, replica_states

ACTIVE, FENCED, FAILOVER = RoutingState.ACTIVE, RoutingState.FENCED, RoutingState.FAILOVER


def test_reconcile_brings_a_stale_replica_up_to_date(aws):
    move(FENCED, 1)
    move(FAILOVER, 2, force=True)
    stale = {"app_id": "mra", "state": "active", "version": 1, "updated_by": "x", "reason": ""}
    dynamodb_table(PRIMARY, table_name("state")).put_item(Item=stale)
    assert routing_state_get(region=PRIMARY, max_age=0).state is ACTIVE
    record = routing_state_reconcile()
    assert record.version == 3
    assert replica_states() == {PRIMARY: ("failover", 3), SECONDARY: ("failover", 3)}


def test_a_region_bootstrapped_again_takes_its_peers_state(aws):
    move(FENCED, 1)
    move(FAILOVER, 2, force=True)
    dynamodb_table(PRIMARY, table_name("state")).delete_item(Key={"app_id": "mra"})
    assert seed_state(region=PRIMARY, demo=False) == [
        "routing state failover (version 3) copied from its peer"
    ]
    assert replica_states() == {PRIMARY: ("failover", 3), SECONDARY: ("failover", 3)}
    assert seed_state(region=PRIMARY, demo=False) == []


def test_the_writer_region_is_read_after_reconciling(aws):
    move(FENCED, 1)
    move(FAILOVER, 2, force=True)
    stale = {"app_id": "mra", "state": "active", "version": 1, "updated_by": "x", "reason": ""}
    dynamodb_table(SECONDARY, table_name("state")).put_item(Item=stale)
    assert routing_writer_region() == SECONDARY
    assert replica_states()[SECONDARY] == ("failover", 3)
