"""A whole local stack of its own (the Procfile's processes on free ports):
two emulated regions, the bootstrap with demo users, the replicator, the
canary, one site per region and the front door in front of them, each a real
process."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from mra_site.polling import poll

from .door import Door
from .processes import (
    BIN,
    ROOT,
    Emulator,
    ManageCommand,
    Process,
    Site,
    clean_env,
    processes_stop,
    site_role_env,
)

PRIMARY = "us-east-1"
SECONDARY = "us-west-2"


@dataclass
class LocalStack:
    emulators: dict[str, Emulator]
    sites: dict[str, Site]
    door: Door
    env: dict[str, str]
    # Every process of the stack, in the order they started.
    processes: list[Process]

    @property
    def site_urls(self) -> dict[str, str]:
        return {region: site.url for region, site in self.sites.items()}

    @property
    def door_url(self) -> str:
        return self.door.url

    def bootstrap(self) -> None:
        """Provision both regions with the demo users (again, after an emulator restart)."""
        _bootstrap(self.env)


def _bootstrap(env: dict[str, str]) -> None:
    subprocess.run(
        [str(BIN / "python"), "manage.py", "mra_bootstrap", "--demo"],
        cwd=ROOT,
        env={**clean_env(), **env},
        check=True,
        capture_output=True,
        # A loaded machine (other test runs) can take minutes.
        timeout=300,
    )


@contextmanager
def local_stack(log_dir: Path, state_dir: Path) -> Iterator[LocalStack]:
    emulators = {region: Emulator(region, log_dir) for region in (PRIMARY, SECONDARY)}
    sites = {region: Site(region, log_dir, {}) for region in (PRIMARY, SECONDARY)}
    door = Door({region: site.url for region, site in sites.items()}, log_dir)
    env = {
        "DJANGO_SETTINGS_MODULE": "mra_site.settings.dev",
        "MRA_PRIMARY_REGION": PRIMARY,
        "MRA_SECONDARY_REGION": SECONDARY,
        "MRA_AWS_ENDPOINTS": ",".join(f"{r}={e.url}" for r, e in emulators.items()),
        "MRA_REGION_URLS": ",".join(f"{r}={s.url}" for r, s in sites.items()),
        "MRA_DOOR_URL": door.url,
        "MRA_REPLICATION_STATE_DIR": str(state_dir),
        "MRA_LOG_LEVEL": "WARNING",
    }
    processes: list[Process] = []
    try:
        for emulator in emulators.values():
            emulator.start()
            processes.append(emulator)
        _bootstrap(env)
        # The replicator is emulator machinery (administrator's key); the canary
        # runs as the primary's site does, under its role.
        for name, role_env in (("replicate", {}), ("canary", site_role_env(PRIMARY))):
            process = ManageCommand(name, [name], log_dir, {**env, **role_env})
            process.start()
            processes.append(process)
        for site in sites.values():
            site.base_env = env
            site.start()
            processes.append(site)
        door.start()
        processes.append(door)
        # The door starts trusting both regions; its first checks may find the sites'
        # readiness still cached from before the bootstrap finished.
        poll(
            lambda: requests.get(f"{door.url}/readyz", timeout=5).status_code == 200,
            timeout=60,
            what="the front door reaching a ready region",
            ignore=(requests.RequestException,),
        )
        yield LocalStack(emulators=emulators, sites=sites, door=door, env=env, processes=processes)
    finally:
        # The door, the canary, the replicator and the sites go together, then
        # the regions they were talking to.
        clients = [p for p in processes if p not in emulators.values()]
        processes_stop(clients)
        processes_stop(list(emulators.values()))
