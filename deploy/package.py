#!/usr/bin/env python3
"""Build each Zappa stage's Lambda package in a clean virtual environment and
check it against Lambda's limits, without an AWS account.

    python deploy/package.py [--stage primary] [--stage secondary] [--keep]

The environment holds requirements.txt and deploy/requirements-deploy.txt
only (Zappa's handler runs inside the function), so nothing from
requirements-dev.txt can reach the package. Then, for each stage:
`zappa package`, the size limits (50 MB zipped, 250 MB unzipped), no
development tool inside, and, from the unpacked package alone with the
stage's environment, Django's deploy checks and GET /healthz through Zappa's
handler.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
ROOT = DEPLOY_DIR.parent
BUILD_DIR = DEPLOY_DIR / "build"
REQUIREMENTS = (ROOT / "requirements.txt", DEPLOY_DIR / "requirements-deploy.txt")

ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
# Top-level modules of development tools: none may be in a package.
FORBIDDEN = (
    "moto",
    "pytest",
    "_pytest",
    "pytest_django",
    "ruff",
    "cfnlint",
    "playwright",
    "honcho",
    "tests",
    "bench",
    "devstack",
    "test-artifacts",
    "psutil",
    "checkov",
)


@dataclass
class PackageReport:
    stage: str
    path: str
    zipped_bytes: int
    unzipped_bytes: int
    files: int
    build_seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def build_venv(venv: Path, *, python: str = sys.executable) -> Path:
    """A virtual environment with the runtime and Zappa requirements only.

    Reused while the requirements are unchanged (a stamp holds their hash).
    """
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in REQUIREMENTS)).hexdigest()[:16]
    stamp = venv / f".requirements-{digest}"
    if stamp.exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    _run([python, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    args = [arg for req in REQUIREMENTS for arg in ("-r", str(req))]
    _run([*pip, *args])
    stamp.touch()
    return venv


def zappa_package(*, venv: Path, stage: str, output: Path) -> float:
    """`zappa package STAGE` from the repository root; returns the seconds it took."""
    env = {
        **os.environ,
        "VIRTUAL_ENV": str(venv),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("PYTHONHOME", None)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    started = time.monotonic()
    # Zappa reads zappa_settings.json from the working directory, which it
    # also packages; -s points it at deploy/ instead.
    _run(
        [
            str(venv / "bin" / "zappa"),
            "package",
            stage,
            "-s",
            str(DEPLOY_DIR / "zappa_settings.json"),
            "-o",
            str(output),
        ],
        env=env,
    )
    return time.monotonic() - started


def _stage(stage: str) -> dict:
    """The stage's settings as Zappa merges them (a stage extends base)."""
    settings = json.loads((DEPLOY_DIR / "zappa_settings.json").read_text())
    return {**settings["base"], **settings[stage]}


def _stage_env(stage: str) -> dict[str, str]:
    """What the function's environment holds; the secret is a throwaway one."""
    config = _stage(stage)
    return {
        **config["environment_variables"],
        "DJANGO_SETTINGS_MODULE": config["django_settings"],
        "DJANGO_SECRET_KEY": "package-check-only-" + hashlib.sha256(stage.encode()).hexdigest(),
    }


def _regional_host(stage: str) -> str:
    """REGION.DomainName, the name API Gateway serves this stage under."""
    env = _stage(stage)["environment_variables"]
    urls = dict(pair.split("=", 1) for pair in env["MRA_REGION_URLS"].split(","))
    return urls[env["MRA_REGION"]].split("://", 1)[1]


def _healthz_event(stage: str) -> dict:
    """What API Gateway hands the function for GET /healthz on the regional name."""
    return {
        "resource": "/{proxy+}",
        "path": "/healthz",
        "httpMethod": "GET",
        "headers": {"Host": _regional_host(stage), "X-Forwarded-Proto": "https"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": "healthz"},
        "stageVariables": None,
        "requestContext": {"stage": stage, "httpMethod": "GET", "resourcePath": "/{proxy+}"},
        "body": None,
        "isBase64Encoded": False,
    }


def check_package(path: Path, *, stage: str, build_seconds: float) -> PackageReport:
    """Sizes, forbidden contents, and the app's system checks run from the package alone."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        unzipped = sum(info.file_size for info in infos)
        top_level = {info.filename.split("/", 1)[0] for info in infos}
    report = PackageReport(
        stage=stage,
        path=str(path),
        zipped_bytes=path.stat().st_size,
        unzipped_bytes=unzipped,
        files=len(infos),
        build_seconds=round(build_seconds, 1),
    )
    if report.zipped_bytes > ZIPPED_LIMIT:
        report.problems.append(f"zipped {report.zipped_bytes} bytes > Lambda's {ZIPPED_LIMIT}")
    if unzipped > UNZIPPED_LIMIT:
        report.problems.append(f"unzipped {unzipped} bytes > Lambda's {UNZIPPED_LIMIT}")
    for name in FORBIDDEN:
        if name in top_level or f"{name}.py" in top_level:
            report.problems.append(f"development-only {name!r} is in the package")
    for needed in ("handler.py", "zappa_settings.py", "manage.py", "mra_site", "templates"):
        if needed not in top_level:
            report.problems.append(f"{needed} is missing from the package")
    with tempfile.TemporaryDirectory(prefix=f"mra-{stage}-") as unpacked:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(unpacked)
        # -I -S: no site-packages, no user paths: only what Lambda would have.
        env = {"PATH": os.environ.get("PATH", ""), **_stage_env(stage)}
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]);"
            "import django; django.setup();"
            "from django.core.management import call_command;"
            "call_command('check', '--deploy', '--tag', 'security', '--fail-level', 'WARNING');"
            "import mra_site.scheduled, handler, json;"
            "print(json.dumps(handler.lambda_handler(json.loads(sys.argv[2]), None)))"
        )
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code, unpacked, json.dumps(_healthz_event(stage))],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            report.problems.append(
                "the unpacked package fails Django's checks:\n" + result.stderr[-3000:]
            )
        else:
            response = json.loads(result.stdout.strip().splitlines()[-1])
            if response.get("statusCode") != 200:
                report.problems.append(f"GET /healthz through Zappa's handler: {response}")
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", action="append", choices=("primary", "secondary"))
    parser.add_argument("--venv", type=Path, default=BUILD_DIR / "venv")
    parser.add_argument("--keep", action="store_true", help="keep the zip files in deploy/build")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stages = args.stage or ["primary", "secondary"]
    started = time.monotonic()
    venv = build_venv(args.venv)
    venv_seconds = time.monotonic() - started
    reports = []
    for stage in stages:
        output = BUILD_DIR / f"mra-{stage}.zip"
        seconds = zappa_package(venv=venv, stage=stage, output=output)
        reports.append(check_package(output, stage=stage, build_seconds=seconds))
        if not args.keep:
            output.unlink()
    summary = {
        "venv_seconds": round(venv_seconds, 1),
        "packages": [asdict(r) | {"ok": r.ok} for r in reports],
    }
    print(json.dumps(summary, indent=2))
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
