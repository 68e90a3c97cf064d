"""JSON files in the replication state directory, replaced atomically.

The replicator is a local-only tool (on AWS the managed services replicate),
so its checkpoints, the drill controls and its status live in plain files
that survive a restart and that the CLI and the sites read.
"""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings


def state_dir() -> Path:
    path = Path(settings.MRA_REPLICATION_STATE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def json_read(name: str, default: Any) -> Any:
    try:
        return json.loads((state_dir() / name).read_text())
    except FileNotFoundError:
        return default
    except json.JSONDecodeError:
        # Writers rename complete files into place, so a partial file means
        # someone edited it by hand; treat it like a missing one.
        return default


def json_write(name: str, data: Any) -> None:
    directory = state_dir()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            # No fsync: the emulators keep their data in memory, so a machine
            # crash loses the regions too; a killed process loses nothing here.
            json.dump(data, handle, indent=1, sort_keys=True, default=str)
        os.replace(tmp, directory / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
