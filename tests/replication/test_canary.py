import threading

import pytest

from mra_site.aws.s3 import object_versions
from mra_site.resources import media_bucket
from replication.canary import (
    HEARTBEAT_KEY,
    canary_lag,
    canary_lags,
    canary_run,
    canary_tick,
    heartbeat_versions_prune,
)
from replication.drain import AWS_SETTLE_SECONDS, drain_check, settle_seconds, writes_at_risk
from routing.selectors import routing_state_get
from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import copy_heartbeat, move, replicator_reports


def test_heartbeat_goes_to_the_writing_region_only(aws):
    beat = canary_tick(seq=1)
    assert beat.source_region == PRIMARY
    primary = canary_lag(region=PRIMARY)
    assert primary.table == beat and primary.bucket == beat
    assert primary.age_seconds() < 5
    # Nothing copies it locally until the replicator runs.
    secondary = canary_lag(region=SECONDARY)
    assert secondary.table is None and secondary.bucket is None
    assert secondary.age_seconds() is None
    assert "no heartbeat yet" in secondary.describe()


def test_while_fenced_the_canary_keeps_beating_in_the_fenced_region(aws):
    move(RoutingState.FENCED, 1)
    assert canary_tick(seq=2).source_region == PRIMARY
    move(RoutingState.FAILOVER, 2, force=True)
    assert canary_tick(seq=3).source_region == SECONDARY
    move(RoutingState.FENCED, 3)
    assert canary_tick(seq=4).source_region == SECONDARY


def test_lag_of_a_region_is_the_age_of_its_newest_heartbeat(aws):
    canary_tick(seq=1)
    copy_heartbeat(source=PRIMARY, target=SECONDARY)
    lags = canary_lags()
    assert lags[SECONDARY].table.seq == 1
    first = lags[SECONDARY].age_seconds()
    canary_run(interval=0.2, stop=threading.Event(), beats=4)
    lags = canary_lags()
    assert lags[PRIMARY].table.seq > 1
    assert lags[SECONDARY].age_seconds() >= first + 0.5  # it fell behind
    assert lags[PRIMARY].age_seconds() < lags[SECONDARY].age_seconds()


def test_drain_needs_a_post_fence_heartbeat_in_table_and_bucket(aws, settings, state_dir):
    settings.MRA_DRAIN_SETTLE_SECONDS = 0
    move(RoutingState.FENCED, 1)
    fenced_at = routing_state_get(region=PRIMARY, max_age=0).fenced_at
    report = drain_check(source=PRIMARY, target=SECONDARY, fenced_at=fenced_at)
    assert not report.drained
    assert any("table holds no heartbeat" in r for r in report.reasons)
    assert any("bucket holds no heartbeat" in r for r in report.reasons)
    canary_tick(seq=7)
    copy_heartbeat(source=PRIMARY, target=SECONDARY)
    replicator_reports(source=PRIMARY, target=SECONDARY)
    report = drain_check(source=PRIMARY, target=SECONDARY, fenced_at=fenced_at)
    assert report.drained, report.reasons
    assert report.lag_seconds is not None


def test_drain_with_only_the_table_replicated_is_not_drained(aws, settings):
    from mra_site.aws.clients import dynamodb_table
    from mra_site.resources import table_name

    settings.MRA_DRAIN_SETTLE_SECONDS = 0
    move(RoutingState.FENCED, 1)
    fenced_at = routing_state_get(region=PRIMARY, max_age=0).fenced_at
    canary_tick(seq=8)
    item = dynamodb_table(PRIMARY, table_name("canary")).get_item(Key={"app_id": "mra"})["Item"]
    dynamodb_table(SECONDARY, table_name("canary")).put_item(Item=item)
    report = drain_check(source=PRIMARY, target=SECONDARY, fenced_at=fenced_at)
    assert not report.drained
    assert report.reasons[0].startswith("its bucket holds no heartbeat")


def test_changes_the_local_replicator_still_holds_keep_the_region_undrained(
    aws, settings, state_dir
):
    settings.MRA_DRAIN_SETTLE_SECONDS = 0
    move(RoutingState.FENCED, 1)
    canary_tick(seq=9)
    copy_heartbeat(source=PRIMARY, target=SECONDARY)
    fenced_at = routing_state_get(region=PRIMARY, max_age=0).fenced_at
    replicator_reports(source=PRIMARY, target=SECONDARY, pending=3)
    report = drain_check(source=PRIMARY, target=SECONDARY, fenced_at=fenced_at)
    assert report.reasons == ["3 changes pending toward us-west-2 (3 photos)"]


def test_without_a_replicator_report_nothing_counts_as_drained(aws, settings, state_dir):
    settings.MRA_DRAIN_SETTLE_SECONDS = 0
    move(RoutingState.FENCED, 1)
    canary_tick(seq=10)
    copy_heartbeat(source=PRIMARY, target=SECONDARY)
    fenced_at = routing_state_get(region=PRIMARY, max_age=0).fenced_at
    report = drain_check(source=PRIMARY, target=SECONDARY, fenced_at=fenced_at)
    assert not report.drained
    assert any("replicator is not running" in r for r in report.reasons)


def test_writes_at_risk_are_named_from_the_source(aws):
    from mra_site.aws.clients import dynamodb_table
    from mra_site.aws.dynamodb import write_stamp
    from mra_site.resources import table_name

    canary_tick(seq=1)
    copy_heartbeat(source=PRIMARY, target=SECONDARY)
    photos = dynamodb_table(PRIMARY, table_name("photos"))
    photos.put_item(Item={"pk": "PHOTO#late", "sk": "META", **write_stamp(PRIMARY)})
    risk = writes_at_risk(source=PRIMARY, target=SECONDARY)
    assert risk.writes == ["PHOTO#late META"]
    assert "may be missing in us-west-2" in risk.summary()


@pytest.mark.stops_region
def test_canary_survives_a_region_that_does_not_answer(aws):
    aws[PRIMARY].stop()
    assert canary_tick(seq=1) is None  # the writing region is down: no heartbeat, no crash
    assert canary_lag(region=PRIMARY).error
    assert "unknown" in canary_lag(region=PRIMARY).describe()


def test_older_heartbeat_versions_are_pruned_and_the_newest_kept(aws):
    for seq in (1, 2, 3):
        canary_tick(seq=seq)
    assert heartbeat_versions_prune(region=PRIMARY) == 2
    versions = object_versions(region=PRIMARY, bucket=media_bucket(PRIMARY), keys=[HEARTBEAT_KEY])
    assert [v.is_latest for v in versions] == [True]
    assert canary_lag(region=PRIMARY).bucket.seq == 3


def test_the_settle_time_is_none_locally_and_a_second_on_aws(settings):
    settings.MRA_DRAIN_SETTLE_SECONDS = None
    # The replicator reports exactly what it applied: no margin for an emulated region.
    assert settle_seconds(SECONDARY) == 0
    settings.MRA_AWS_ENDPOINTS = {**settings.MRA_AWS_ENDPOINTS, SECONDARY: ""}
    assert settle_seconds(SECONDARY) == AWS_SETTLE_SECONDS == 1.0
    settings.MRA_DRAIN_SETTLE_SECONDS = 2.5
    assert settle_seconds(SECONDARY) == 2.5
