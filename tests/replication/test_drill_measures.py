"""What the drill measures with: its writers' pace, the lag of the changes made
since it started, and the loss it predicts for an unplanned failover."""

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


class CountedStop:
    """The drill's stop event, set after `writes` writes; it records every wait asked of it."""

    def __init__(self, stack: InstantStack, writes: int) -> None:
        self.stack, self.writes, self.waits = stack, writes, []

    def is_set(self) -> bool:
        return self.stack.writes >= self.writes

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return self.is_set()


def _waits(writer_class, *, interval: float) -> list[float]:
    stack = InstantStack()
    stop = CountedStop(stack, writes=5)
    writer_class(0, stack, "ann", "pw", region="us-east-1", stop=stop, interval=interval).run()
    assert stack.writes == 5
    return stop.waits


def test_paced_writers_wait_out_their_interval_and_unpaced_ones_never_wait():
    for writer_class in (Writer, DoorWriter):
        # A random start within the first interval, then the rest of each interval
        # after each write (the write itself took part of it).
        first, *between = _waits(writer_class, interval=0.1)
        assert 0 <= first <= 0.1
        assert len(between) == 5 and all(0 <= wait <= 0.1 for wait in between)
        # Unpaced, the same writer writes again as soon as it is answered.
        assert _waits(writer_class, interval=0.0) == [0.0] * 5


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
