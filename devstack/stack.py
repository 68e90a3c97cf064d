"""A whole local stack of its own (the Procfile's processes on free ports):
two emulated regions, the bootstrap with demo users, the replicator, the
canary and one site per region, each a real process."""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .processes import BIN, ROOT, Emulator, ManageCommand, Process, Site, clean_env

PRIMARY = "us-east-1"
SECONDARY = "us-west-2"


@dataclass
class LocalStack:
    emulators: dict[str, Emulator]
    sites: dict[str, Site]
    env: dict[str, str]

    @property
    def site_urls(self) -> dict[str, str]:
        return {region: site.url for region, site in self.sites.items()}


@contextmanager
def local_stack(log_dir: Path, state_dir: Path) -> Iterator[LocalStack]:
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
            env={**clean_env(), **env},
            check=True,
            capture_output=True,
            timeout=120,
        )
        for name in ("replicate", "canary"):
            process = ManageCommand(name, [name], log_dir, env)
            process.start()
            processes.append(process)
        for site in sites.values():
            site.base_env = env
            site.start()
            processes.append(site)
        yield LocalStack(emulators=emulators, sites=sites, env=env)
    finally:
        for process in reversed(processes):
            process.stop()
