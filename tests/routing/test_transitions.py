import os
import signal
import threading

import pytest

from mra_site.aws.clients import client, dynamodb_resource, fail_fast, region_breaker
from routing.selectors import routing_history_list, routing_state_get
from routing.services import routing_failover
from routing.states import RoutingState
from routing.transitions import TransitionRefused
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import drain, move, replica_states

ACTIVE, FENCED, FAILOVER = RoutingState.ACTIVE, RoutingState.FENCED, RoutingState.FAILOVER


def refused(target, version, **kwargs) -> TransitionRefused:
    with pytest.raises(TransitionRefused) as info:
        move(target, version, **kwargs)
    return info.value


def test_bootstrap_seeds_active_version_1_in_both_regions(aws):
    assert replica_states() == {PRIMARY: ("active", 1), SECONDARY: ("active", 1)}


def test_fence_then_abort_writes_both_replicas(aws):
    result = move(FENCED, 1)
    assert result.record.state is FENCED
    assert result.record.fenced_from == PRIMARY
    assert result.record.writable_region is None
    assert result.unreached == []
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}
    for region in (PRIMARY, SECONDARY):
        assert routing_state_get(region=region).fenced_at == result.record.fenced_at

    move(ACTIVE, 2)
    assert replica_states() == {PRIMARY: ("active", 3), SECONDARY: ("active", 3)}
    assert routing_state_get(region=SECONDARY, max_age=0).fenced_from is None


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], ACTIVE),
        ([], FAILOVER),
        ([FENCED], FENCED),
        ([FENCED, (FAILOVER, True)], FAILOVER),
        ([FENCED, (FAILOVER, True)], ACTIVE),
    ],
    ids=[
        "active-active",
        "active-failover",
        "fenced-fenced",
        "failover-failover",
        "failover-active",
    ],
)
def test_transitions_the_table_does_not_allow_are_refused(aws, path, target):
    version = 1
    for step in path:
        step_target, force = step if isinstance(step, tuple) else (step, False)
        version = move(step_target, version, force=force).record.version
    before = replica_states()
    refusal = refused(target, version)
    assert refusal.code == "invalid_transition"
    assert refusal.status == 409
    assert "not an allowed transition" in refusal.detail
    assert replica_states() == before


def test_stale_version_is_a_conflict(aws):
    move(FENCED, 1)
    refusal = refused(ACTIVE, 1)
    assert refusal.code == "version_conflict"
    assert "version 2" in refusal.detail
    assert replica_states()[PRIMARY] == ("fenced", 2)


def test_failover_needs_the_secondary_drained(aws):
    move(FENCED, 1)
    refusal = refused(FAILOVER, 2)
    assert refusal.code == "not_drained"
    assert "us-west-2 is not drained" in refusal.detail
    assert "replicator" in refusal.detail
    assert replica_states()[SECONDARY] == ("fenced", 2)


def test_failover_waits_for_the_settle_time(aws, settings):
    settings.MRA_DRAIN_SETTLE_SECONDS = 60
    move(FENCED, 1)
    drain(source=PRIMARY, target=SECONDARY)
    refusal = refused(FAILOVER, 2)
    assert refusal.code == "not_drained"
    assert "settling" in refusal.detail


def test_a_heartbeat_from_before_the_fence_does_not_count(aws, no_settle):
    drain(source=PRIMARY, target=SECONDARY)
    move(FENCED, 1)
    assert refused(FAILOVER, 2).code == "not_drained"


def test_planned_failover_and_failback_when_drained(aws, no_settle):
    move(FENCED, 1)
    drain(source=PRIMARY, target=SECONDARY)
    result = move(FAILOVER, 2)
    assert result.record.writable_region == SECONDARY
    assert result.drain.drained and result.at_risk is None
    assert replica_states() == {PRIMARY: ("failover", 3), SECONDARY: ("failover", 3)}

    fence = move(FENCED, 3)
    assert fence.record.fenced_from == SECONDARY
    assert refused(ACTIVE, 4).code == "not_drained"
    drain(source=SECONDARY, target=PRIMARY)
    back = move(ACTIVE, 4)
    assert back.record.writable_region == PRIMARY
    assert replica_states() == {PRIMARY: ("active", 5), SECONDARY: ("active", 5)}


def test_forced_failover_names_what_may_be_lost(aws):
    move(FENCED, 1)
    result = move(FAILOVER, 2, force=True)
    assert result.forced
    assert not result.drain.drained
    assert "us-west-2 holds no heartbeat" in result.at_risk.summary()
    assert replica_states() == {PRIMARY: ("failover", 3), SECONDARY: ("failover", 3)}


def test_failback_can_be_aborted_back_to_failover(aws):
    move(FENCED, 1)
    move(FAILOVER, 2, force=True)
    move(FENCED, 3)
    result = move(FAILOVER, 4)
    assert result.record.writable_region == SECONDARY
    assert result.drain is None


def test_racing_operators_get_one_success_and_conflicts(aws):
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def operator(n: int) -> None:
        start.wait()
        try:
            move(FENCED, 1, actor=f"op{n}")
            outcomes.append("ok")
        except TransitionRefused as refusal:
            outcomes.append(refusal.code)

    threads = [threading.Thread(target=operator, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["version_conflict"] * 5
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}
    history = routing_history_list(region=PRIMARY)
    assert [e["outcome"] for e in history].count("changed") == 1
    assert [e.get("error") for e in history].count("version_conflict") == 5


def test_audit_log_records_changes_and_refusals_newest_first(aws):
    move(FENCED, 1, actor="olga")
    with pytest.raises(TransitionRefused):
        move(FAILOVER, 2, actor="mike")
    move(FAILOVER, 2, force=True, actor="olga")
    for region in (PRIMARY, SECONDARY):
        history = routing_history_list(region=region)
        assert [(e["actor"], e["from_state"], e["to_state"], e["outcome"]) for e in history] == [
            ("olga", "fenced", "failover", "changed"),
            ("mike", "fenced", "failover", "refused"),
            ("olga", "active", "fenced", "changed"),
        ]
        forced, refusal, fence = history
        assert forced["forced"] is True and forced["version"] == 3
        assert "may be missing" in forced["at_risk"] or "holds no heartbeat" in forced["at_risk"]
        assert refusal["error"] == "not_drained" and refusal["forced"] is False
        assert fence["reason"] == "test" and fence["at"] and fence["via_region"] == PRIMARY
        assert "lag_seconds" not in fence or fence["lag_seconds"] >= 0


@pytest.mark.stops_region
def test_writing_region_down_needs_force_and_is_reported(aws):
    aws[PRIMARY].stop()
    refusal = refused(FENCED, 1)
    assert refusal.code == "region_unavailable" and refusal.status == 503
    assert "us-east-1" in refusal.detail
    fence = move(FENCED, 1, force=True)
    assert fence.unreached == [PRIMARY]
    failover = move(FAILOVER, 2, force=True)
    assert failover.record.writable_region == SECONDARY
    assert routing_state_get(region=SECONDARY, max_age=0).version == 3


@pytest.mark.slow
def test_a_forced_failover_asks_a_frozen_primary_once_and_goes_ahead(aws, settings):
    settings.MRA_AWS_REGION_COOLDOWN = 30
    asked: list[str] = []
    with fail_fast():
        hooked = [client("dynamodb", PRIMARY), dynamodb_resource(PRIMARY).meta.client]
    for hook in hooked:
        hook.meta.events.register("before-send", lambda **kwargs: asked.append("primary"))
    group = aws[PRIMARY].proc.pid
    os.killpg(group, signal.SIGSTOP)
    try:
        outcome = routing_failover(
            actor="ops", reason="region lost", force=True, via_region=SECONDARY
        )
    finally:
        os.killpg(group, signal.SIGCONT)
        region_breaker.reset()
    assert [step.record.state for step in outcome.steps] == [FENCED, FAILOVER]
    assert all(PRIMARY in step.unreached for step in outcome.steps)
    assert outcome.last.record.writable_region == SECONDARY
    # One try of the state read; the breaker answered every later call at once.
    assert asked == ["primary"]
