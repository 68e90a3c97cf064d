"""Short failover drills against a whole local stack of their own: two emulated
regions, two sites, the replicator and the canary, each a real process."""

from collections.abc import Iterator

import pytest
from django.conf import settings

from replication.drill.client import Stack
from replication.drill.regionctl import region_processes
from replication.drill.runner import Drill
from tests.conftest import PRIMARY, SECONDARY
from tests.support.stack import LocalStack, local_stack

pytestmark = pytest.mark.drill


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    log_dir = tmp_path_factory.mktemp("drill-logs")
    state_dir = tmp_path_factory.mktemp("drill-replication")
    with local_stack(log_dir, state_dir) as running:
        yield running


def _drill(stack: LocalStack, *, outage: bool) -> Drill:
    emulators, sites = stack.emulators, stack.sites
    return Drill(
        stack=Stack(stack.site_urls),
        primary=PRIMARY,
        secondary=SECONDARY,
        user=(settings.MRA_DEMO_USERNAME, settings.MRA_DEMO_PASSWORD),
        operator=(settings.MRA_DEMO_OPERATOR_USERNAME, settings.MRA_DEMO_OPERATOR_PASSWORD),
        writers=2,
        duration=9,
        outage=(
            (
                lambda: region_processes(
                    region=PRIMARY, urls=[emulators[PRIMARY].url, sites[PRIMARY].url]
                )
            )
            if outage
            else None
        ),
    )


def test_a_planned_drill_loses_no_acknowledged_write(stack):
    report = _drill(stack, outage=False).run("planned")
    assert report.errors == []
    assert report.acknowledged["total"] > 0
    assert [p["name"] for p in report.phases] == ["failover", "failback"]
    for phase in report.phases:
        assert phase["rto"]["to_first_write"] is not None, phase
    assert report.missing_after_settle == {PRIMARY: 0, SECONDARY: 0}
    assert report.lost_at_failover is None


def test_an_unplanned_drill_reports_its_loss_within_the_window_it_named(stack):
    report = _drill(stack, outage=True).run("unplanned")
    assert report.errors == []
    assert report.at_risk is not None
    assert report.lost_at_failover is not None
    assert report.loss_matches_at_risk is True, report.lost_writes
    # Once the primary is back and caught up, nothing acknowledged is missing anywhere.
    assert report.missing_after_settle == {PRIMARY: 0, SECONDARY: 0}
