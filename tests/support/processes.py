"""Emulated regions and regional sites as real processes on free ports."""

import abc
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EMULATOR_ENV = {
    # Stable pool and client ids, so a restarted or reset region keeps them,
    # as a real region's pool does.
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {timeout}s")


class Process(abc.ABC):
    """A child process that can be stopped and started again on the same port."""

    def __init__(self, name: str, port: int, log_dir: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    @abc.abstractmethod
    def command(self) -> list[str]: ...

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    @abc.abstractmethod
    def ready(self) -> bool: ...

    def start(self, timeout: float = 30) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.ready, timeout=timeout, what=self.name)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


class Emulator(Process):
    """One AWS region: a moto server in its own process."""

    def __init__(self, region: str, log_dir: Path) -> None:
        super().__init__(f"aws-{region}", free_port(), log_dir)
        self.region = region

    def command(self) -> list[str]:
        # moto_server with serialised DynamoDB writes (see the script).
        return [
            str(BIN / "python"),
            str(ROOT / "scripts" / "moto-server"),
            "-H",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]

    def env(self) -> dict[str, str]:
        return {**os.environ, **EMULATOR_ENV}

    def ready(self) -> bool:
        return requests.get(f"{self.url}/moto-api/", timeout=1).status_code == 200

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()


class Site(Process):
    """One region's Django site under gunicorn, as in the Procfile."""

    def __init__(self, region: str, log_dir: Path, base_env: dict[str, str]) -> None:
        super().__init__(f"site-{region}", free_port(), log_dir)
        self.region = region
        self.base_env = base_env

    def command(self) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            "mra_site.wsgi",
            "-b",
            f"127.0.0.1:{self.port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--timeout",
            "30",
            "--no-control-socket",
        ]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MRA_")}
        env.update(self.base_env)
        env["MRA_REGION"] = self.region
        env["DJANGO_SETTINGS_MODULE"] = "mra_site.settings.dev"
        return env

    def ready(self) -> bool:
        return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
