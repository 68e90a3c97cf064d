"""What the drill measures with: its writers' pace, the lag of the changes made
since it started, and the loss it predicts for an unplanned failover."""

import threading
import time

from replication.drill.client import Answer
from replication.drill.report import DrillReport
from replication.drill.writers import DoorWriter, Writer
from replication.engine.stats import DatasetStats


def test_the_lag_since_a_mark_covers_only_changes_made_since():
    stats = DatasetStats()
    mark = time.time() - 20
    stats.record_applied(origin_time=mark - 5, now=mark + 1)  # made before: 6 s behind
    for lag in (0.1, 0.2, 0.3):
        stats.record_applied(origin_time=mark + 10, now=mark + 10 + lag)
    figures = stats.as_dict(since=mark)
    assert figures["lag_since_mark_samples"] == 3
    assert figures["lag_p99_since_mark_seconds"] == 0.3
    unmarked = stats.as_dict()
    assert unmarked["lag_p99_since_mark_seconds"] is None
    assert unmarked["lag_since_mark_samples"] == 0


class InstantStack:
    """A stack that takes every write at once."""

    door_url = "http://door.invalid"

    def __init__(self) -> None:
        self.writes = 0

    def _answer(self, region: str) -> Answer:
        self.writes += 1
        return Answer(201, {"id": f"p{self.writes}"}, {}, region)

    def request(self, method: str, path: str, *, region: str, **kwargs) -> Answer:
        return self._answer(region)

    def through_door(self, method: str, path: str, **kwargs) -> Answer:
        return self._answer("us-east-1")

    def token(self, region: str, username: str, password: str) -> str:
        return "token"

    def door_token(self, username: str, password: str) -> str:
        return "token"


def _writes_in(writer_class, *, interval: float, seconds: float) -> int:
    stack, stop = InstantStack(), threading.Event()
    writer = writer_class(0, stack, "ann", "pw", region="us-east-1", stop=stop, interval=interval)
    writer.start()
    time.sleep(seconds)
    stop.set()
    writer.join(timeout=10)
    assert not writer.is_alive()
    return stack.writes


def test_paced_writers_never_write_faster_than_their_interval():
    for writer_class in (Writer, DoorWriter):
        # At most one write per started interval (a slow machine makes fewer, never more).
        assert _writes_in(writer_class, interval=0.1, seconds=0.35) <= 4
        # Unpaced, the same writer writes again as soon as it is answered.
        assert _writes_in(writer_class, interval=0.0, seconds=0.1) > 4


def test_the_predicted_loss_uses_the_lag_before_the_outage():
    report = DrillReport(kind="unplanned", writers=4, duration=30)
    report.write_rate = 10.0
    report.lost_at_failover = 2
    report.replication_lag_p99_before_outage = {
        "us-east-1-to-us-west-2 photos": 0.4,
        "us-east-1-to-us-west-2 media": 3.0,
    }
    # Afterwards the lag is the outage's backlog, which would predict anything.
    report.replication_lag_p99 = {"us-east-1-to-us-west-2 photos": 40.0}
    assert report.predicted_loss() == 4.0
    assert "before the outage" in report.table()
