"""The replicator as a real process against the test emulators, with its own state dir."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import Replicator


@pytest.fixture
def state_dir(tmp_path, settings) -> Path:
    path = tmp_path / "replication"
    path.mkdir()
    settings.MRA_REPLICATION_STATE_DIR = path
    return path


@pytest.fixture
def replicator(fresh_streams, aws, state_dir, log_dir) -> Iterator[Replicator]:
    process = Replicator(log_dir, state_dir, {region: e.url for region, e in aws.items()})
    process.start()
    yield process
    process.stop()
