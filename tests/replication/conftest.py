"""The replicator as a real process against the test emulators, with its own state dir."""

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from replication.directions import directions_all
from tests.support.processes import BIN, ROOT, Process


class Replicator(Process):
    """`manage.py replicate` pointed at the session's emulators."""

    def __init__(self, log_dir: Path, state_dir: Path, endpoints: dict[str, str]) -> None:
        super().__init__("replicator", 0, log_dir)
        self.state_dir = state_dir
        self.endpoints = endpoints

    def command(self) -> list[str]:
        return [str(BIN / "python"), str(ROOT / "manage.py"), "replicate"]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MRA_")}
        env.update(
            DJANGO_SETTINGS_MODULE="mra_site.settings.dev",
            MRA_AWS_ENDPOINTS=",".join(f"{r}={url}" for r, url in self.endpoints.items()),
            MRA_REPLICATION_STATE_DIR=str(self.state_dir),
            MRA_LOG_LEVEL="INFO",
        )
        return env

    def start(self, timeout: float = 30) -> None:
        self.started_at = time.time()
        super().start(timeout)

    def ready(self) -> bool:
        """Both directions have reported since this start."""
        for direction in directions_all():
            try:
                status = json.loads((self.state_dir / f"status-{direction.name}.json").read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                return False
            if status["updated_at"] < self.started_at:
                return False
        return True

    def kill(self) -> None:
        """Stop it the hard way, mid-work, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


@pytest.fixture
def state_dir(tmp_path, settings) -> Path:
    path = tmp_path / "replication"
    path.mkdir()
    settings.MRA_REPLICATION_STATE_DIR = path
    return path


@pytest.fixture
def replicator(aws, state_dir, log_dir) -> Iterator[Replicator]:
    process = Replicator(log_dir, state_dir, {region: e.url for region, e in aws.items()})
    process.start()
    yield process
    process.stop()


def eventually(check: Callable[[], object], *, timeout: float = 15, what: str = "") -> object:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {what or check}")
        time.sleep(0.05)
