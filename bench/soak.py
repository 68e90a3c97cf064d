"""Memory and idle cost of the local stack over time.

    .venv/bin/python bench/soak.py [--idle-minutes 5] [--load-minutes 5]

Starts a local stack of its own (`devstack.stack.local_stack`: both emulated
regions, the replicator, the canary, both sites, the front door), lets it
idle, then drives a light steady load through the front door as the demo
user: one upload of about 50 KB and two comments a second. Every 10 s it
samples each process's RSS (its children included: gunicorn's workers); over
each 60 s idle window it measures each process's CPU time (psutil, children
included) as a share of one core.

Prints, per process: RSS at the start and at the end of each phase, its
growth per hour (least-squares fit over the phase's samples) and its idle
CPU (with --canary-split-minutes, again with the canary stopped: what the
heartbeat every second costs the rest of the stack); beside the load phase's
growth, the bytes each region stores (S3 object versions and DynamoDB
items), which legitimately grow with the load, read once a minute, and of
them the bytes an emulator keeps in files (large objects' bodies, not in its
memory); and each emulator's growth beyond the stored bytes it holds in
memory, per hour and over 24 h.

Exits non-zero only when a process died or an acknowledged write is missing
in either region after settling, never on a figure.
"""

import argparse
import io
import json
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _django import django_setup
from _processes import cpu_seconds, rss

django_setup("mra_site.settings.dev")

import boto3  # noqa: E402
import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from PIL import Image  # noqa: E402

from devstack.stack import LocalStack, local_stack  # noqa: E402
from mra_site.resources import TABLES, media_bucket  # noqa: E402
from replication.drill.client import Stack  # noqa: E402

SAMPLE_SECONDS = 10.0
CPU_WINDOW_SECONDS = 60.0
SETTLE_SECONDS = 60.0


def noisy_png(seed: int, size: int = 50_000) -> bytes:
    """A valid PNG of about `size` bytes: random pixels do not compress."""
    side = int((size / 3) ** 0.5)
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def slope_per_hour(samples: list[tuple[float, int]]) -> float:
    """Least-squares growth of RSS, bytes per hour."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if not var:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    return cov / var * 3600


@dataclass
class Phase:
    name: str
    rss: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)  # share of one core per window
    # Per region: bytes stored (S3 versions and table items) over time, and of
    # them the bytes the emulator keeps in files (large objects' bodies).
    stored: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    on_disk: dict[str, list[tuple[float, int]]] = field(default_factory=dict)


class Watch:
    def __init__(self, stack: LocalStack) -> None:
        self.pids = {p.name: p.proc.pid for p in stack.processes if p.proc}
        self.stack = stack

    def died(self) -> list[str]:
        return [p.name for p in self.stack.processes if not p.running]

    def run(self, phase: Phase, seconds: float, *, stored_every_sample: bool = True) -> None:
        """Sample RSS every SAMPLE_SECONDS and CPU over whole windows, for `seconds`.

        Reading the stored bytes lists and scans both regions: idle, that is
        done at the phase's start and end only, so that the emulators' idle
        CPU is not the benchmark's own requests; under load, once a window,
        since a whole-store read every sample was a load of its own."""
        end = time.monotonic() + seconds
        window_start = time.monotonic()
        window_cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        while True:
            now = time.monotonic()
            for name, pid in self.pids.items():
                phase.rss.setdefault(name, []).append((now, rss(pid)))
            window_ends = now - window_start >= CPU_WINDOW_SECONDS - 0.5
            if (stored_every_sample and window_ends) or not phase.stored or now >= end:
                for region, stored in stored_bytes(self.stack).items():
                    phase.stored.setdefault(region, []).append((now, stored))
                    on_disk = files_bytes(self.stack.emulators[region].data_dir)
                    phase.on_disk.setdefault(region, []).append((now, on_disk))
            if window_ends:
                for name, pid in self.pids.items():
                    used = cpu_seconds(pid) - window_cpu[name]
                    phase.cpu.setdefault(name, []).append(used / (now - window_start))
                window_start = now
                window_cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
            if now >= end or self.died():
                return
            time.sleep(min(SAMPLE_SECONDS, max(0.0, end - now)))


def _clients(stack: LocalStack, service: str) -> dict[str, object]:
    return {
        region: boto3.client(
            service,
            region_name=region,
            endpoint_url=emulator.url,
            aws_access_key_id=settings.MRA_AWS_LOCAL_ACCESS_KEY_ID,
            aws_secret_access_key=settings.MRA_AWS_LOCAL_SECRET_ACCESS_KEY,
        )
        for region, emulator in stack.emulators.items()
    }


def stored_bytes(stack: LocalStack) -> dict[str, int]:
    """What each region stores: every S3 object version's bytes and every
    DynamoDB item's size (its JSON as DynamoDB returns it)."""
    stored = dict.fromkeys(stack.emulators, 0)
    try:
        for region, s3 in _clients(stack, "s3").items():
            pages = s3.get_paginator("list_object_versions").paginate(Bucket=media_bucket(region))  # type: ignore[attr-defined]
            stored[region] += sum(v["Size"] for page in pages for v in page.get("Versions", []))
        for region, dynamodb in _clients(stack, "dynamodb").items():
            for spec in TABLES:
                pages = dynamodb.get_paginator("scan").paginate(TableName=spec.name)  # type: ignore[attr-defined]
                stored[region] += sum(len(json.dumps(i)) for page in pages for i in page["Items"])
    except Exception as exc:  # a figure, not a correctness condition
        print(f"  (stored bytes not read: {exc})", file=sys.stderr)
    return stored


def files_bytes(directory: Path) -> int:
    """The bytes of the files under `directory`."""
    return sum(
        os.path.getsize(os.path.join(folder, name))
        for folder, _, names in os.walk(directory)
        for name in names
    )


@dataclass(eq=False)
class Load(threading.Thread):
    stack: Stack
    stop: threading.Event
    photos: list[str] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)
    failed: int = 0

    def __post_init__(self) -> None:
        threading.Thread.__init__(self, name="load", daemon=True)

    def run(self) -> None:
        token = self.stack.door_token(settings.MRA_DEMO_USERNAME, settings.MRA_DEMO_PASSWORD)
        second = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            second += 1
            answer = self.stack.through_door(
                "POST",
                "/api/photos",
                token=token,
                timeout=10,
                data={"title": f"soak {second}"},
                files={"image": ("soak.png", noisy_png(second), "image/png")},
            )
            if answer.status == 201:
                self.photos.append(answer.body["id"])
            else:
                self.failed += 1
            for n in range(2):
                if not self.photos:
                    break
                photo = self.photos[-1]
                answer = self.stack.through_door(
                    "POST",
                    f"/api/photos/{photo}/comments",
                    token=token,
                    timeout=10,
                    json={"message": f"soak comment {second}-{n}"},
                )
                if answer.status == 201:
                    self.comments.append((photo, answer.body["id"]))
                else:
                    self.failed += 1
            next_at += 1.0
            self.stop.wait(max(0.0, next_at - time.monotonic()))


def missing_writes(stack: Stack, load: Load) -> dict[str, int]:
    """Acknowledged writes each region lacks, after up to SETTLE_SECONDS to settle."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        missing = {}
        for region in stack.urls:
            photos = set(load.photos) - stack.photo_ids(region, set(load.photos))
            comments = 0
            by_photo: dict[str, set[str]] = {}
            for photo, comment in load.comments:
                by_photo.setdefault(photo, set()).add(comment)
            for photo, ids in by_photo.items():
                comments += len(ids - stack.comment_ids(region, photo))
            missing[region] = len(photos) + comments
        if not any(missing.values()) or time.monotonic() > deadline:
            return missing
        time.sleep(5)


def mb(value: float) -> str:
    return f"{value / 1e6:8.1f}"


def after_warmup(samples: list[tuple[float, int]], warmup: float) -> list[tuple[float, int]]:
    """The samples from `warmup` seconds after the phase's first one on."""
    if not samples:
        return samples
    start = samples[0][0] + warmup
    kept = [s for s in samples if s[0] >= start]
    return kept if len(kept) >= 2 else samples


def report(phase: Phase, warmup: float = 0.0) -> None:
    fitted = f" (growth fitted after {warmup / 60:g} min of warm-up)" if warmup else ""
    print(f"\n{phase.name}{fitted}")
    print(
        f"  {'process':16} {'RSS start MB':>12} {'RSS end MB':>10} {'growth MB/h':>11}"
        f" {'CPU % idle':>10} {'windows':>8}"
    )
    total_cpu = 0.0
    for name, samples in phase.rss.items():
        windows = phase.cpu.get(name, [])
        cpu = sum(windows) / len(windows) * 100 if windows else float("nan")
        total_cpu += cpu if windows else 0.0
        print(
            f"  {name:16} {mb(samples[0][1]):>12} {mb(samples[-1][1]):>10}"
            f" {mb(slope_per_hour(after_warmup(samples, warmup))):>11} {cpu:10.1f} {len(windows):8}"
        )
    if phase.cpu:
        print(f"  {'whole stack':16} {'':>12} {'':>10} {'':>11} {total_cpu:10.1f}")
        windows = zip(*phase.cpu.values(), strict=False)
        shares = " ".join(f"{sum(w) * 100:.1f}" for w in windows)
        print(f"  whole stack per 60 s window, %: {shares}")
    if phase.stored:
        first = sum(series[0][1] for series in phase.stored.values())
        last = sum(series[-1][1] for series in phase.stored.values())
        rate = sum(slope_per_hour(series) for series in phase.stored.values())
        print(
            f"  stored in both regions: {mb(first).strip()} → {mb(last).strip()} MB,"
            f" {mb(rate).strip()} MB/h"
        )
        # The target: an emulator's growth beyond what its region stores. The
        # bytes it keeps in files are not in its memory: only the rest counts.
        for region, stored in phase.stored.items():
            rss_series = phase.rss.get(f"aws-{region}")
            if rss_series and len(stored) > 1:
                grown = slope_per_hour(after_warmup(rss_series, warmup))
                on_disk = slope_per_hour(phase.on_disk[region])
                in_memory = slope_per_hour(stored) - on_disk
                beyond = grown - in_memory
                print(
                    f"  aws-{region}: grew {mb(grown).strip()} MB/h; stored"
                    f" {mb(in_memory).strip()} MB/h in memory, {mb(on_disk).strip()} MB/h in"
                    f" files; beyond the stored bytes in memory: {mb(beyond).strip()} MB/h,"
                    f" {beyond * 24 / 1e9:.2f} GB in 24 h"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle-minutes", type=float, default=5.0)
    parser.add_argument("--load-minutes", type=float, default=5.0)
    parser.add_argument(
        "--canary-split-minutes",
        type=float,
        default=0.0,
        help="after the idle phase, this long with the canary stopped (SIGSTOP): the heartbeat's"
        " share of the idle cost",
    )
    parser.add_argument(
        "--warmup-minutes",
        type=float,
        default=0.0,
        help="fit the idle growth per hour only after this many minutes (warm-up excluded)",
    )
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} cores, load average at start"
        f" {' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        flush=True,
    )
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mra-soak-") as tmp:
        log_dir, state_dir = Path(tmp) / "logs", Path(tmp) / "state"
        log_dir.mkdir()
        state_dir.mkdir()
        with local_stack(log_dir, state_dir) as stack:
            watch = Watch(stack)
            client = Stack(stack.site_urls, door_url=stack.door_url)
            idle = Phase("idle")
            print(f"idle for {args.idle_minutes} min", flush=True)
            watch.run(idle, args.idle_minutes * 60, stored_every_sample=False)
            report(idle, min(args.warmup_minutes, args.idle_minutes) * 60)
            if args.canary_split_minutes > 0 and not watch.died():
                canary = psutil.Process(watch.pids["canary"])
                quiet = Phase("idle, canary stopped (no heartbeat)")
                print(f"\nidle without the canary for {args.canary_split_minutes} min", flush=True)
                canary.suspend()
                try:
                    watch.run(quiet, args.canary_split_minutes * 60, stored_every_sample=False)
                finally:
                    canary.resume()
                report(quiet)
            busy = Phase("light load: one ~50 KB upload and two comments a second")
            stop = threading.Event()
            load = Load(client, stop)
            if args.load_minutes > 0 and not watch.died():
                print(f"\nload for {args.load_minutes} min", flush=True)
                load.start()
                watch.run(busy, args.load_minutes * 60)
                stop.set()
                load.join(timeout=30)
                report(busy)
                print(
                    f"  acknowledged: {len(load.photos)} photos, {len(load.comments)} comments;"
                    f" refused or failed: {load.failed}"
                )
                missing = missing_writes(client, load)
                print(f"  acknowledged writes missing after settling: {missing}")
                if any(missing.values()):
                    failures.append(f"writes lost: {missing}")
            died = watch.died()
            if died:
                failures.append(f"processes died: {died}")
                for process in stack.processes:
                    if process.name in died:
                        tail = process.log_path.read_text(errors="replace")[-2000:]
                        print(f"--- {process.name} log (end) ---\n{tail}", file=sys.stderr)
    print(f"\nload average at end {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
