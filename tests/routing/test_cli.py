import io

import pytest
from django.core.management import CommandError, call_command

from routing.selectors import routing_history_list
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import drain, replica_states


def routing(*args: str) -> str:
    out = io.StringIO()
    call_command("routing", *args, stdout=out)
    return out.getvalue()


def refusal(*args: str) -> str:
    with pytest.raises(CommandError) as info:
        routing(*args)
    return str(info.value)


def test_status_shows_state_replicas_and_lag(aws):
    out = routing("status")
    assert "state active, version 1, writable region us-east-1" in out
    assert "us-east-1 (primary): replica v1 active" in out
    assert "us-west-2 (secondary): replica v1 active" in out
    assert "no heartbeat yet" in out


def test_fence_and_unfence(aws):
    out = routing("fence", "--reason", "deploy")
    assert "active v1 → fenced v2" in out
    assert '"writable_region": null' in out
    assert "already fenced" in refusal("fence")
    out = routing("unfence")
    assert "fenced v2 → active v3" in out
    assert "not fenced" in refusal("unfence")
    assert routing_history_list(region=PRIMARY)[0]["actor"].endswith("(cli)")


def test_failover_without_drain_is_refused_then_forced(aws):
    message = refusal("failover", "--reason", "drill")
    assert "refused (not_drained)" in message
    assert "replicator" in message
    # The fence of the first step stays: writes are paused, nothing promoted.
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}
    out = routing("failover", "--force", "--reason", "primary lost")
    assert "fenced v2 → failover v3 (forced)" in out
    assert "may be lost:" in out


def test_planned_failover_and_failback_when_drained(aws, no_settle):
    routing("fence")
    drain(source=PRIMARY, target=SECONDARY)
    out = routing("failover")
    assert "fenced v2 → failover v3" in out and "(forced)" not in out
    assert "already writable" in refusal("failover")
    message = refusal("failback")
    assert "not_drained" in message
    assert replica_states()[PRIMARY] == ("fenced", 4)
    drain(source=SECONDARY, target=PRIMARY)
    out = routing("failback")
    assert "fenced v4 → active v5" in out


def test_failover_waits_for_the_drain(aws, settings):
    settings.MRA_DRAIN_SETTLE_SECONDS = 1.0
    routing("fence")
    drain(source=PRIMARY, target=SECONDARY)
    out = routing("failover", "--wait", "10")
    assert "fenced v2 → failover v3" in out


@pytest.mark.stops_region
def test_a_down_region_is_named_and_force_goes_ahead(aws):
    aws[PRIMARY].stop()
    message = refusal("fence", "--region", SECONDARY)
    assert "region_unavailable" in message and PRIMARY in message
    out = routing("failover", "--force", "--region", SECONDARY, "--reason", "primary lost")
    assert "not reached: us-east-1" in out
    assert "fenced v2 → failover v3 (forced)" in out
    assert "failover" in routing("status")
