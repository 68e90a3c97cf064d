"""Short failover drills through the front door of a whole local stack of their
own: two emulated regions, two sites, the replicator, the canary and the door,
each a real process. Correctness only; the times are bench/drill.py's."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.stack import LocalStack, local_stack
from replication.drill.runner import Drill
from routing.drill import local_drill
from tests.conftest import PRIMARY, SECONDARY

pytestmark = [pytest.mark.drill, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    log_dir = tmp_path_factory.mktemp("drill-logs")
    state_dir = tmp_path_factory.mktemp("drill-replication")
    with local_stack(log_dir, state_dir) as running:
        yield running


def _drill(stack: LocalStack, *, outage: bool) -> Drill:
    return local_drill(
        site_urls=stack.site_urls,
        aws_endpoints={region: emulator.url for region, emulator in stack.emulators.items()},
        state_dir=Path(stack.env["MRA_REPLICATION_STATE_DIR"]),
        writers=2,
        # Four seconds between the moves: after a promotion the door takes up
        # to two of its checks (a second apart) and the new region's state
        # cache (a second) to send writes there, and a writer up to its
        # Retry-After to try again; on a machine busy with the rest of the
        # suite, three seconds were not always enough for one write to land.
        duration=12,
        unplanned=outage,
        door_url=stack.door_url,
        # Paced writers, 6 writes a second together: enough for a write to
        # land after each move, and a drill that leaves the rest of the suite
        # (its other workers) CPU to run on.
        write_rate=6.0,
    )


def test_a_planned_drill_loses_no_acknowledged_write(stack):
    report = _drill(stack, outage=False).run("planned")
    assert report.errors == []
    assert report.via == "door"
    assert report.acknowledged["total"] > 0
    assert [p["name"] for p in report.phases] == ["failover", "failback"]
    for phase in report.phases:
        # A write through the door landed in the new region after each move.
        assert phase["rto"]["rto_door"] is not None, phase
    assert report.missing_after_settle == {PRIMARY: 0, SECONDARY: 0}
    assert report.lost_at_failover is None
    # A planned move is invisible to a front-door writer but for a wait: no 421.
    assert report.door_write_failures is not None
    assert report.door_write_failures["421"] == 0, report.door_write_failures
    assert report.reads is not None and report.reads["reads"] > 0


def test_an_unplanned_drill_reports_its_loss_within_the_window_it_named(stack):
    report = _drill(stack, outage=True).run("unplanned")
    assert report.errors == []
    assert report.via == "door"
    assert report.at_risk is not None
    assert report.lost_at_failover is not None
    assert report.loss_matches_at_risk is True, report.lost_writes
    # Once the primary is back and caught up, nothing acknowledged is missing anywhere.
    assert report.missing_after_settle == {PRIMARY: 0, SECONDARY: 0}
    # The reader through the door read on while the primary was frozen.
    assert report.reads is not None and report.reads["reads"] > report.reads["failed"]
