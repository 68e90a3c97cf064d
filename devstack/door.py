"""The local front door: HAProxy on one address in front of both regional sites.

`python -m devstack.door --port 8000 --site us-east-1=127.0.0.1:8001 --site
us-west-2=127.0.0.1:8002` renders devstack/haproxy.cfg and runs HAProxy in the
foreground (the Procfile's `door`); `Door` does the same as a test process.
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from string import Template

import requests

from . import gunicorn
from .processes import BIN, ROOT, Process, free_port

TEMPLATE = ROOT / "devstack" / "haproxy.cfg"
HAPROXY = "/usr/sbin/haproxy"
READ_TIMEOUT = "1500ms"

_ERRORS = {
    502: ("Bad Gateway", "The region did not answer properly. Try again in a second."),
    503: ("Service Unavailable", "No region can take this request now. Try again in a second."),
    504: ("Gateway Timeout", "The region did not answer in time. Try again in a second."),
}


def _error_response(status: int) -> str:
    reason, detail = _ERRORS[status]
    body = f'{{"error": "unavailable", "detail": "{detail}"}}\n'
    return (
        f"HTTP/1.0 {status} {reason}\r\n"
        "Cache-Control: no-cache\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Retry-After: 1\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
        f"{body}"
    )


def door_config(
    *, bind: str, sites: dict[str, str], error_dir: Path, log_level: str = "info"
) -> str:
    """HAProxy's configuration: the door on `bind` in front of {region: host:port}."""
    names = list(sites)
    return Template(TEMPLATE.read_text()).substitute(
        bind=bind,
        log_level=log_level,
        error_dir=error_dir,
        read_timeout=READ_TIMEOUT,
        write_servers="\n".join(
            f"    server {r} {sites[r]} maxconn {gunicorn.DOOR_WRITES}" for r in names
        ),
        read_servers="\n".join(
            f"    server {r} {sites[r]} maxconn {gunicorn.DOOR_READS}" for r in names
        ),
        read_preferences="\n".join(
            f"    use-server {r} if {{ srv_is_up(writes/{r}) }}" for r in names
        ),
    )


def door_render(
    *, directory: Path, port: int, sites: dict[str, str], log_level: str = "info"
) -> Path:
    """Write the configuration and HAProxy's error answers into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    for status in _ERRORS:
        (directory / f"{status}.http").write_text(_error_response(status))
    config = directory / "haproxy.cfg"
    config.write_text(
        door_config(bind=f"127.0.0.1:{port}", sites=sites, error_dir=directory, log_level=log_level)
    )
    return config


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or (HAPROXY if Path(HAPROXY).exists() else None)
    if not found:
        sys.exit("haproxy is not installed: run scripts/install-debian-packages")
    return found


def _address(url_or_address: str) -> str:
    return url_or_address.removeprefix("http://").rstrip("/")


class Door(Process):
    """The front door over the given sites ({region: URL}), on a free port."""

    def __init__(self, sites: dict[str, str], log_dir: Path) -> None:
        super().__init__("door", free_port(), log_dir)
        self.sites = {region: _address(url) for region, url in sites.items()}
        self.config_dir = log_dir / "door"

    def command(self) -> list[str]:
        args = [str(BIN / "python"), "-m", "devstack.door", "--port", str(self.port)]
        args += ["--config-dir", str(self.config_dir)]
        for region, address in self.sites.items():
            args += ["--site", f"{region}={address}"]
        return args

    def ready(self) -> bool:
        return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--site", action="append", required=True, metavar="REGION=HOST:PORT", dest="sites"
    )
    parser.add_argument("--config-dir", type=Path, help="where to write the rendered config")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    sites = {}
    for spec in args.sites:
        region, sep, address = spec.partition("=")
        if not sep:
            parser.error(f"--site expects REGION=HOST:PORT, got {spec!r}")
        sites[region] = _address(address)
    directory = args.config_dir or Path(tempfile.mkdtemp(prefix="mra-door-"))
    config = door_render(directory=directory, port=args.port, sites=sites, log_level=args.log_level)
    binary = haproxy_binary()
    print(f"front door on http://127.0.0.1:{args.port} ({config})", flush=True)
    # HAProxy replaces this process, so that honcho's Ctrl-C reaches it.
    os.execv(binary, [binary, "-db", "-f", str(config)])  # noqa: S606 (fixed arguments)


if __name__ == "__main__":
    main()
