"""Short failover drills against a whole local stack of their own: two emulated
regions, two sites, the replicator and the canary, each a real process."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from replication.drill.client import Stack
from replication.drill.regionctl import region_processes
from replication.drill.runner import Drill
from tests.conftest import PRIMARY, SECONDARY
from tests.support.processes import BIN, ROOT, Emulator, Process, Site

from .conftest import Replicator

pytestmark = pytest.mark.drill


class Canary(Process):
    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        super().__init__("canary", 0, log_dir)
        self.base_env = env

    def command(self) -> list[str]:
        return [str(BIN / "python"), str(ROOT / "manage.py"), "canary"]

    def env(self) -> dict[str, str]:
        return {**_clean_env(), **self.base_env}

    def ready(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MRA_")}


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory) -> Iterator[dict]:
    """The Procfile's processes, on free ports, bootstrapped with the demo users."""
    log_dir = tmp_path_factory.mktemp("drill-logs")
    state_dir = tmp_path_factory.mktemp("drill-replication")
    emulators = {region: Emulator(region, log_dir) for region in (PRIMARY, SECONDARY)}
    sites = {region: Site(region, log_dir, {}) for region in (PRIMARY, SECONDARY)}
    env = {
        "DJANGO_SETTINGS_MODULE": "mra_site.settings.dev",
        "MRA_PRIMARY_REGION": PRIMARY,
        "MRA_SECONDARY_REGION": SECONDARY,
        "MRA_AWS_ENDPOINTS": ",".join(f"{r}={e.url}" for r, e in emulators.items()),
        "MRA_REGION_URLS": ",".join(f"{r}={s.url}" for r, s in sites.items()),
        "MRA_REPLICATION_STATE_DIR": str(state_dir),
        "MRA_LOG_LEVEL": "WARNING",
    }
    processes: list[Process] = []
    try:
        for emulator in emulators.values():
            emulator.start()
            processes.append(emulator)
        subprocess.run(
            [str(BIN / "python"), "manage.py", "mra_bootstrap", "--demo"],
            cwd=ROOT,
            env={**_clean_env(), **env},
            check=True,
            capture_output=True,
            timeout=120,
        )
        replicator = Replicator(log_dir, state_dir, {r: e.url for r, e in emulators.items()})
        replicator.start()
        processes.append(replicator)
        canary = Canary(log_dir, env)
        canary.start()
        processes.append(canary)
        for site in sites.values():
            site.base_env = env
            site.start()
            processes.append(site)
        yield {"emulators": emulators, "sites": sites}
    finally:
        for process in reversed(processes):
            process.stop()


def _drill(stack: dict, *, outage: bool) -> Drill:
    emulators, sites = stack["emulators"], stack["sites"]
    return Drill(
        stack=Stack({region: site.url for region, site in sites.items()}),
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


def test_a_planned_drill_loses_no_acknowledged_write(local_stack):
    report = _drill(local_stack, outage=False).run("planned")
    assert report.errors == []
    assert report.acknowledged["total"] > 0
    assert [p["name"] for p in report.phases] == ["failover", "failback"]
    for phase in report.phases:
        assert phase["rto"]["to_first_write"] is not None, phase
    assert report.missing_after_settle == {PRIMARY: 0, SECONDARY: 0}
    assert report.lost_at_failover is None


def test_an_unplanned_drill_reports_its_loss_within_the_window_it_named(local_stack):
    report = _drill(local_stack, outage=True).run("unplanned")
    assert report.errors == []
    assert report.at_risk is not None
    assert report.lost_at_failover is not None
    assert report.loss_matches_at_risk is True, report.lost_writes
    # Once the primary is back and caught up, nothing acknowledged is missing anywhere.
    assert report.missing_after_settle == {PRIMARY: 0, SECONDARY: 0}
