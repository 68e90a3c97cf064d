"""The local stack's processes (emulated regions, regional sites, manage.py
commands) as real child processes on free ports, for the tests and the bench."""

import abc
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from mra_site.polling import poll

from .allocator import emulator_allocator_env

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EMULATOR_ENV = {
    # Stable pool and client ids, so a restarted or reset region keeps them,
    # as a real region's pool does.
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}


def emulator_admin_env() -> dict[str, str]:
    """The local administrator's key, which an emulator needs to start (IAM is
    enforced from its first request) and every process uses as its base key."""
    from django.conf import settings

    return {
        "MRA_AWS_LOCAL_ACCESS_KEY_ID": settings.MRA_AWS_LOCAL_ACCESS_KEY_ID,
        "MRA_AWS_LOCAL_SECRET_ACCESS_KEY": settings.MRA_AWS_LOCAL_SECRET_ACCESS_KEY,
    }


def site_role_env(region: str) -> dict[str, str]:
    """What makes a site or the canary of `region` run as the template's role."""
    from .iam import site_role_name

    return {"MRA_AWS_ASSUME_ROLE": site_role_name(region, parameters={})}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env() -> dict[str, str]:
    """This process's environment without any MRA_ setting of its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MRA_")}


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
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        poll(
            self.ready,
            timeout=timeout,
            what=f"{self.name} coming up (log: {self.log_path})",
            ignore=(requests.RequestException,),
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def terminate(self) -> None:
        """Ask it to stop without waiting (`stop` then waits)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def kill(self) -> None:
        """Stop it the hard way, mid-work, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Emulator(Process):
    """One AWS region: a moto server in its own process."""

    def __init__(self, region: str, log_dir: Path) -> None:
        super().__init__(f"aws-{region}", free_port(), log_dir)
        self.region = region
        # How many times its state was wiped (each start and reset does), so
        # that whoever provisioned it can tell it needs provisioning again.
        self.generation = 0

    def start(self, timeout: float = 30) -> None:
        super().start(timeout)
        self.generation += 1

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
        objects = {"MRA_MOTO_DATA_DIR": str(self.data_dir)}
        return {
            **os.environ,
            **EMULATOR_ENV,
            **emulator_admin_env(),
            **emulator_allocator_env(),
            **objects,
        }

    @property
    def data_dir(self) -> Path:
        """Where it keeps the bytes of its S3 objects (scripts/moto-server),
        beside its log; emptied when it starts."""
        return self.log_path.with_name(f"{self.name}-objects")

    def ready(self) -> bool:
        return requests.get(f"{self.url}/moto-api/", timeout=1).status_code == 200

    def reset(self) -> None:
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
        self.generation += 1


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
            "-c",
            "python:devstack.gunicorn",
        ]

    def env(self) -> dict[str, str]:
        env = clean_env()
        env.update(site_role_env(self.region))
        env.update(self.base_env)
        env["MRA_REGION"] = self.region
        env["DJANGO_SETTINGS_MODULE"] = "mra_site.settings.dev"
        return env

    def ready(self) -> bool:
        return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200


class ManageCommand(Process):
    """A long-running `manage.py COMMAND` with the stack's environment."""

    def __init__(self, name: str, args: list[str], log_dir: Path, env: dict[str, str]) -> None:
        super().__init__(name, 0, log_dir)
        self.args = args
        self.base_env = env

    def command(self) -> list[str]:
        return [str(BIN / "python"), str(ROOT / "manage.py"), *self.args]

    def env(self) -> dict[str, str]:
        return {**clean_env(), **self.base_env}

    def ready(self) -> bool:
        return self.running


class Replicator(ManageCommand):
    """`manage.py replicate` against the given emulators, with its own state dir."""

    def __init__(self, log_dir: Path, state_dir: Path, endpoints: dict[str, str]) -> None:
        env = {
            "DJANGO_SETTINGS_MODULE": "mra_site.settings.dev",
            "MRA_AWS_ENDPOINTS": ",".join(f"{r}={url}" for r, url in endpoints.items()),
            "MRA_REPLICATION_STATE_DIR": str(state_dir),
            "MRA_LOG_LEVEL": "INFO",
        }
        super().__init__("replicator", ["replicate"], log_dir, env)
        self.state_dir = state_dir
        self.started_at = 0.0

    def start(self, timeout: float = 30) -> None:
        self.started_at = time.time()
        super().start(timeout)

    def ready(self) -> bool:
        """Both directions have reported since this start."""
        from replication.directions import directions_all

        for direction in directions_all():
            try:
                status = json.loads((self.state_dir / f"status-{direction.name}.json").read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                return False
            if status["updated_at"] < self.started_at:
                return False
        return True


def processes_stop(processes: list[Process]) -> None:
    """Stop them all at once: each is asked first, then each is waited for (and
    killed after `stop`'s grace), so that the slowest sets the time, not their sum."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.stop()
