"""Lambda packaging benchmark: `zappa package` for both stages, offline, with the limits checked.

    .venv/bin/python bench/deploy_package.py [--fresh]

Builds the clean virtual environment of deploy/package.py (requirements.txt
and deploy/requirements-deploy.txt only; reused while they are unchanged,
rebuilt with --fresh), packages the `primary` and `secondary` stages, and for
each prints the time taken, the zipped and unzipped sizes against Lambda's
50 MB / 250 MB limits and the headroom left. The package's own checks run
too: no development tool inside, Django's deploy checks and GET /healthz
through Zappa's handler from the unpacked package alone. Exits 1 if any
check fails. Needs no AWS account and no network once the environment exists.
"""

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy import package  # noqa: E402

MB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="rebuild the environment first")
    args = parser.parse_args()
    venv = package.BUILD_DIR / "venv"
    if args.fresh:
        shutil.rmtree(venv, ignore_errors=True)
    started = time.monotonic()
    package.build_venv(venv)
    venv_seconds = time.monotonic() - started
    print(f"clean environment: {venv_seconds:6.1f} s ({venv})")
    print(
        f"{'stage':10} {'package s':>9} {'zipped MB':>10} {'of 50':>6} "
        f"{'unzipped MB':>12} {'of 250':>7} {'files':>6}  result"
    )
    failed = False
    for stage in ("primary", "secondary"):
        output = package.BUILD_DIR / f"mra-{stage}.zip"
        seconds = package.zappa_package(venv=venv, stage=stage, output=output)
        report = package.check_package(output, stage=stage, build_seconds=seconds)
        output.unlink()
        zipped, unzipped = report.zipped_bytes, report.unzipped_bytes
        print(
            f"{stage:10} {report.build_seconds:9.1f} {zipped / MB:10.1f} "
            f"{zipped / package.ZIPPED_LIMIT:6.0%} {unzipped / MB:12.1f} "
            f"{unzipped / package.UNZIPPED_LIMIT:7.0%} {report.files:6d}  "
            f"{'ok' if report.ok else 'FAILED'}"
        )
        for problem in report.problems:
            print(f"  - {problem}")
        failed = failed or not report.ok
    print(f"total: {time.monotonic() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
