"""The functions Zappa's scheduled events call, run against the emulated regions."""

from mra_site.aws.clients import dynamodb_table
from mra_site.resources import table_name
from mra_site.scheduled import canary_minute, routing_state_seed
from replication.canary import heartbeat_in_bucket, heartbeat_in_table
from routing.selectors import clear_state_cache, routing_state_get
from tests.conftest import PRIMARY, SECONDARY


class LambdaContext:
    """The one method of Lambda's context object that the canary reads."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


SCHEDULED_EVENT = {
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "resources": [
        "arn:aws:events:us-east-1:123456789012:rule/mra-primary-canary-mra_site.scheduled.canary_minute"
    ],
}


def test_canary_minute_beats_in_the_writing_region_within_the_invocation(aws, settings):
    settings.MRA_CANARY_INTERVAL_SECONDS = 0.1
    # 3.5 s left, 3 s kept for Lambda to return: half a second of heartbeats.
    beats = canary_minute(SCHEDULED_EVENT, LambdaContext(remaining_ms=3500))
    assert beats == 5
    in_table = heartbeat_in_table(region=PRIMARY)
    in_bucket = heartbeat_in_bucket(region=PRIMARY)
    assert in_table is not None and in_table.source_region == PRIMARY
    assert in_bucket is not None and in_bucket.seq == in_table.seq


def test_canary_minute_beats_at_least_once_when_little_time_is_left(aws, settings):
    settings.MRA_CANARY_INTERVAL_SECONDS = 1.0
    assert canary_minute(SCHEDULED_EVENT, LambdaContext(remaining_ms=1000)) == 1
    assert heartbeat_in_table(region=PRIMARY) is not None


def test_routing_state_seed_creates_the_record_once(aws, settings, region):
    for name in (PRIMARY, SECONDARY):
        dynamodb_table(name, table_name("state")).delete_item(Key={"app_id": settings.MRA_APP_ID})
    clear_state_cache()
    assert routing_state_seed({}, None)
    assert routing_state_get(region=PRIMARY, max_age=0).state.value == "active"
    assert routing_state_seed({}, None) == []
    # The other region's function copies the record instead of starting its own.
    region(SECONDARY)
    assert "copied from its peer" in routing_state_seed({}, None)[0]
    assert routing_state_get(region=SECONDARY, max_age=0).version == 1
