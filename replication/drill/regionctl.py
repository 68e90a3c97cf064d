"""Taking a local region down and bringing it back, by the ports it listens on.

A region of the local stack is two processes: its emulator and its site. The
drill freezes them with SIGSTOP: to everyone else the region stops answering,
as a region in an outage does (connections hang until they time out), while
its data survives, as a real region's does when it comes back. SIGCONT brings
it back. Freezing instead of killing also keeps honcho, which stops the whole
stack when one of its processes exits, out of the way.
"""

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

_LISTEN = "0A"


@dataclass(frozen=True)
class RegionProcesses:
    region: str
    pids: tuple[int, ...]

    def freeze(self) -> None:
        for pid in self.pids:
            _signal(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.pids:
            _signal(pid, signal.SIGCONT)


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def pids_listening_on(port: int) -> set[int]:
    """Processes holding a listening socket on `port` (a gunicorn master and
    its workers all do)."""
    inodes = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    pids = set()
    if not inodes:
        return pids
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    pids.add(int(proc.name))
                    break
        except OSError:
            continue
    return pids


def port_of(url: str) -> int:
    parsed = urlparse(url)
    if parsed.port:
        return parsed.port
    return 443 if parsed.scheme == "https" else 80


def region_processes(*, region: str, urls: list[str]) -> RegionProcesses:
    """The local processes serving `urls` (the region's emulator and site)."""
    pids: set[int] = set()
    for url in urls:
        found = pids_listening_on(port_of(url))
        if not found:
            raise LookupError(
                f"no local process listens for {region} at {url}: is the local stack running?"
            )
        pids |= found
    return RegionProcesses(region=region, pids=tuple(sorted(pids)))
