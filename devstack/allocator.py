"""The memory allocator an emulator runs on.

An emulator keeps long-lived objects (items, object metadata, stream
records) among each request's short-lived buffers. glibc's allocator left
the holes between them unreturned (60-150 MB an hour under the light load of
bench/soak.py), and Python's own small-object allocator keeps each of its
1 MiB arenas for as long as one object in it lives: between them an emulator
grew 105-117 MB an hour beyond the bytes it stored. On jemalloc (Debian's
libjemalloc2, scripts/install-debian-packages) for every allocation, with
two arenas for its many request threads and freed pages returned within two
seconds by a background thread, it grows 56-71 (bench/README.md).

`python -m devstack.allocator COMMAND...` runs COMMAND so (the Procfile's
emulators); `devstack/processes.py` starts the test and benchmark emulators
with `emulator_allocator_env()`. Without jemalloc installed both leave the
environment as it is.
"""

import glob
import os
import sys

JEMALLOC = "/usr/lib/*/libjemalloc.so.2"
# jemalloc's settings (its MALLOC_CONF): two arenas rather than four per core,
# freed pages given back to the system after two seconds, by a thread of its own.
JEMALLOC_CONF = "narenas:2,dirty_decay_ms:2000,muzzy_decay_ms:0,background_thread:true"


def emulator_allocator_env() -> dict[str, str]:
    """jemalloc for everything an emulator allocates, when it is installed."""
    found = sorted(glob.glob(JEMALLOC))
    if not found:
        return {}
    # Python's objects too: PYTHONMALLOC=malloc sends them to jemalloc.
    return {"LD_PRELOAD": found[0], "PYTHONMALLOC": "malloc", "MALLOC_CONF": JEMALLOC_CONF}


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m devstack.allocator COMMAND [ARG...]")
    # The command replaces this process, so that honcho's signals reach it.
    os.execvpe(argv[0], argv, {**os.environ, **emulator_allocator_env()})  # noqa: S606


if __name__ == "__main__":
    main(sys.argv[1:])
