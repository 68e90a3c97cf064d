import threading

import pytest

from mra_site.polling import poll
from replication.canary import heartbeat_in_bucket, heartbeat_in_table
from routing.selectors import routing_history_list
from routing.services import routing_failback, routing_failover, routing_fence, routing_unfence
from routing.transitions import TransitionRefused
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import copy_heartbeat, drain, replica_states, replicator_reports

WHO = {"actor": "olga", "reason": "test"}


def refused(workflow, **kwargs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as info:
        workflow(**WHO, **kwargs)
    return info.value


def test_fence_and_unfence_return_to_the_region_that_was_writing(aws):
    fence = routing_fence(**WHO)
    assert [s.record.state.value for s in fence.steps] == ["fenced"]
    assert refused(routing_fence).code == "invalid_transition"
    back = routing_unfence(**WHO)
    assert back.last.record.writable_region == PRIMARY
    assert "not fenced" in refused(routing_unfence).detail
    assert replica_states() == {PRIMARY: ("active", 3), SECONDARY: ("active", 3)}


def test_a_failover_without_drain_or_force_is_refused_and_changes_nothing(aws):
    routing_fence(**WHO)
    refusal = refused(routing_failover)
    assert refusal.code == "not_drained" and refusal.status == 409
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}
    assert routing_history_list(region=PRIMARY)[0]["error"] == "not_drained"


def test_a_failover_from_active_keeps_the_fence_when_the_promotion_is_refused(aws):
    refusal = refused(routing_failover)
    assert refusal.code == "not_drained"
    assert "The fence stays" in refusal.detail
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}


def test_failover_waits_for_the_drain_then_promotes(aws, no_settle):
    fence = routing_fence(**WHO)
    assert fence.last.record.state.value == "fenced"
    replication = threading.Timer(0.5, drain, kwargs={"source": PRIMARY, "target": SECONDARY})
    replication.start()
    try:
        result = routing_failover(**WHO, wait=20)
    finally:
        replication.join()
    assert result.last.drain.drained and not result.last.forced
    assert replica_states() == {PRIMARY: ("failover", 3), SECONDARY: ("failover", 3)}


def test_a_failover_writes_the_heartbeat_its_drain_waits_for(aws, no_settle):
    """No canary runs here: the heartbeat written after the fence that reaches the
    secondary is the one the workflow wrote as it began to wait."""
    fenced_at = routing_fence(**WHO).last.record.fenced_at

    def replicate_once_a_heartbeat_follows_the_fence() -> None:
        def after_fence() -> bool:
            beats = heartbeat_in_table(region=PRIMARY), heartbeat_in_bucket(region=PRIMARY)
            return all(beat and beat.written_at > fenced_at for beat in beats)

        poll(after_fence, timeout=15, what="a heartbeat written after the fence")
        copy_heartbeat(source=PRIMARY, target=SECONDARY)
        replicator_reports(source=PRIMARY, target=SECONDARY)

    replication = threading.Thread(target=replicate_once_a_heartbeat_follows_the_fence)
    replication.start()
    try:
        result = routing_failover(**WHO, wait=15)
    finally:
        replication.join()
    assert result.last.drain.drained
    assert replica_states() == {PRIMARY: ("failover", 3), SECONDARY: ("failover", 3)}


def test_planned_failover_and_failback(aws, no_settle):
    routing_fence(**WHO)
    drain(source=PRIMARY, target=SECONDARY)
    routing_failover(**WHO)
    assert "already writable" in refused(routing_failover).detail
    assert refused(routing_failback).code == "not_drained"
    drain(source=SECONDARY, target=PRIMARY)
    back = routing_failback(**WHO)
    assert [s.record.version for s in back.steps] == [5]
    assert replica_states() == {PRIMARY: ("active", 5), SECONDARY: ("active", 5)}


def test_a_forced_failover_fences_promotes_and_names_the_risk(aws):
    result = routing_failover(**WHO, force=True)
    assert [(s.previous.state.value, s.record.state.value) for s in result.steps] == [
        ("active", "fenced"),
        ("fenced", "failover"),
    ]
    assert result.last.forced and result.last.at_risk is not None


def test_an_expected_version_that_is_no_longer_current_is_a_conflict(aws):
    routing_fence(**WHO)
    routing_unfence(**WHO)
    assert refused(routing_fence, expected_version=1).code == "version_conflict"
    assert replica_states()[PRIMARY] == ("active", 3)
