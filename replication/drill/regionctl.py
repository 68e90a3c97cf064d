"""Taking a local region down and bringing it back, by the ports it listens on.

A region of the local stack is two processes: its emulator and its site. The
drill freezes them with SIGSTOP: to everyone else the region stops answering,
as a region in an outage does (connections hang until they time out), while
its data survives, as a real region's does when it comes back. SIGCONT brings
it back. Freezing instead of killing also keeps honcho, which stops the whole
stack when one of its processes exits, out of the way.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    import psutil


@dataclass(frozen=True)
class RegionProcesses:
    region: str
    pids: tuple[int, ...]

    def freeze(self) -> None:
        for process in self._processes():
            process.suspend()

    def thaw(self) -> None:
        for process in self._processes():
            process.resume()

    def _processes(self) -> list["psutil.Process"]:
        import psutil

        found = []
        for pid in self.pids:
            try:
                found.append(psutil.Process(pid))
            except psutil.NoSuchProcess:
                continue
        return found


def pids_listening_on(port: int) -> set[int]:
    """Processes holding a listening socket on `port` (a gunicorn master and
    its workers all do)."""
    # psutil is a development dependency: only the local stack, never Lambda,
    # has processes of its own to freeze. Each process is asked for its own
    # sockets because psutil.net_connections() names one holder per socket.
    import psutil

    pids = set()
    for process in psutil.process_iter():
        try:
            connections = process.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if any(
            c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections
        ):
            pids.add(process.pid)
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
