"""Image uploads' benchmark: parallel uploads of a large, highly compressible PNG
through a real regional site, with the worker's memory.

    .venv/bin/python bench/images.py [--parallel 8] [--rounds 2] [--side 6324]

Starts both emulated regions and the primary's site of its own (gunicorn with
`devstack/gunicorn.py`, as the Procfile runs it), bootstraps the regions with the
demo users, signs in as the demo user through `POST /api/auth/token`, then posts
--parallel uploads at once of an all-zero RGBA PNG of --side x --side pixels
(about 150 KB; 160 MB once decoded), --rounds times, to `POST /api/photos`.
A sampler reads the RSS of the site's processes (gunicorn's arbiter and worker)
every 20 ms. It prints each answer's status and latency, the latency
percentiles, the answers by status, and the worker's peak RSS.

It exits non-zero only when an answer is neither 201 nor 503 with Retry-After
(a 503 "busy" is the bounded refusal of an upload that found every decoding slot
taken), or when an answer claimed 201 for a photo the API then does not show;
never because of a time or a size.
"""

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import psutil
import requests
from _django import django_setup

django_setup("mra_site.settings.dev")

from devstack.processes import Emulator, Site  # noqa: E402
from devstack.stack import PRIMARY, SECONDARY, _bootstrap  # noqa: E402

REQUEST_TIMEOUT = 120


def all_zero_png(side: int) -> bytes:
    """The PNG Pillow writes for Image.new("RGBA", (side, side)), built row by row."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    deflate = zlib.compressobj()
    row = b"\x00" * (1 + side * 4)
    data = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    header = side.to_bytes(4, "big") * 2 + bytes([8, 6, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


class RssSampler(threading.Thread):
    """Peak RSS of a process tree's members, sampled until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peaks: dict[int, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid, rss in self.current().items():
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
            time.sleep(0.02)

    def current(self) -> dict[int, int]:
        rss = {}
        for process in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                rss[process.pid] = process.memory_info().rss
        return rss


def upload(url: str, token: str, png: bytes, number: int) -> dict[str, Any]:
    started = time.monotonic()
    response = requests.post(
        f"{url}/api/photos",
        headers={"Authorization": f"Bearer {token}"},
        files={"image": (f"zero-{number}.png", io.BytesIO(png), "image/png")},
        data={"title": f"all zero {number}"},
        timeout=REQUEST_TIMEOUT,
    )
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    return {
        "status": response.status_code,
        "seconds": time.monotonic() - started,
        "error": body.get("error", ""),
        "retry_after": response.headers.get("Retry-After"),
        "id": body.get("id") if response.status_code == 201 else None,
    }


def round_run(url: str, token: str, png: bytes, parallel: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = [{} for _ in range(parallel)]

    def one(number: int) -> None:
        results[number] = upload(url, token, png, number)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--side", type=int, default=6324)
    parser.add_argument(
        "--decodes", type=int, help="the site's MRA_IMAGE_DECODES (default: the setting's)"
    )
    args = parser.parse_args()
    png = all_zero_png(args.side)
    print(f"PNG {args.side} x {args.side} RGBA, all zero: {len(png)} bytes", flush=True)
    with tempfile.TemporaryDirectory(prefix="mra-bench-images-") as tmp:
        logs = Path(tmp)
        emulators = {region: Emulator(region, logs) for region in (PRIMARY, SECONDARY)}
        env = {
            "DJANGO_SETTINGS_MODULE": "mra_site.settings.dev",
            "MRA_PRIMARY_REGION": PRIMARY,
            "MRA_SECONDARY_REGION": SECONDARY,
            "MRA_AWS_ENDPOINTS": ",".join(f"{r}={e.url}" for r, e in emulators.items()),
            "MRA_LOG_LEVEL": "WARNING",
        }
        if args.decodes:
            env["MRA_IMAGE_DECODES"] = str(args.decodes)
        site = Site(PRIMARY, logs, env)
        try:
            for emulator in emulators.values():
                emulator.start()
            _bootstrap(env)
            site.start()
            sys.exit(measure(site, png, args.parallel, args.rounds))
        finally:
            site.stop()
            for emulator in emulators.values():
                emulator.stop()


def measure(site: Site, png: bytes, parallel: int, rounds: int) -> int:
    from django.conf import settings

    signed_in = requests.post(
        f"{site.url}/api/auth/token",
        json={"username": settings.MRA_DEMO_USERNAME, "password": settings.MRA_DEMO_PASSWORD},
        timeout=30,
    )
    signed_in.raise_for_status()
    token = signed_in.json()["access_token"]
    assert site.proc is not None
    sampler = RssSampler(site.proc.pid)
    idle = sampler.current()
    sampler.start()
    results: list[dict[str, Any]] = []
    for number in range(rounds):
        answers = round_run(site.url, token, png, parallel)
        print(
            f"round {number + 1}: "
            + ", ".join(
                f"{a['status']}{'/' + a['error'] if a['error'] else ''} {a['seconds']:.2f}s"
                for a in answers
            ),
            flush=True,
        )
        results.extend(answers)
        time.sleep(1)
    sampler.stop.set()
    sampler.join()
    seconds = [r["seconds"] for r in results]
    by_status: dict[str, int] = {}
    for r in results:
        key = f"{r['status']} {r['error']}".strip()
        by_status[key] = by_status.get(key, 0) + 1
    worker = max(sampler.peaks, key=lambda pid: sampler.peaks[pid])
    print(f"\n{len(results)} uploads, {parallel} at a time, {rounds} rounds, {os.cpu_count()} CPUs")
    print(f"  answers: {by_status}")
    print(
        f"  latency s: p50 {statistics.median(seconds):.2f}  p90 {percentile(seconds, 0.9):.2f}"
        f"  p99 {percentile(seconds, 0.99):.2f}  max {max(seconds):.2f}"
    )
    print(
        f"  worker RSS MB: idle {idle.get(worker, 0) / 2**20:.0f}"
        f"  peak {sampler.peaks[worker] / 2**20:.0f}"
        f"  (every site process's peak: {sorted(round(v / 2**20) for v in sampler.peaks.values())})"
    )
    broken = [
        r for r in results if r["status"] != 201 and not (r["status"] == 503 and r["retry_after"])
    ]
    listed = requests.get(f"{site.url}/api/photos", params={"limit": 100}, timeout=30).json()
    shown = {p["id"] for p in listed.get("results", [])}
    lost = [r for r in results if r["id"] and r["id"] not in shown]
    if broken or lost:
        print(
            f"  FAILED: {len(broken)} answers neither 201 nor 503 + Retry-After, {len(lost)} lost"
        )
        return 1
    return 0


if __name__ == "__main__":
    main()
