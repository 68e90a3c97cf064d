"""The functions Zappa's scheduled events call, run against the emulated regions."""

from mra_site.scheduled import canary_minute
from replication.canary import heartbeat_in_bucket, heartbeat_in_table
from tests.conftest import PRIMARY


class LambdaContext:
    """The one method of Lambda's context object that the canary reads."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


SCHEDULED_EVENT = {
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/mra-primary-canary"],
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
