"""Gallery benchmark: page latency at 1,000 and 30,000 photos, AWS calls per page,
and the emulator's TransactWriteItems time at 10,000 items.

    .venv/bin/python bench/gallery.py [--photos 30000] [--requests 200]

Starts two emulated regions of its own and seeds photo metadata straight into
the primary emulator (BatchWriteItem, 25 items a request; the site's own item
layout, one photo a minute so that shards fill as a live site's would). At each
step (1,000, 10,000, --photos) it requests `/api/photos` in process through
Django's test client, `limit=6` and `limit=24`, each request with a distinct
cursor at a random depth (the cursor the site itself hands out after that many
photos), so that no page is served twice and nothing a cache could keep is
measured. Each page is checked against the seeded photos (newest first, no gap,
no duplicate): a wrong page exits 1. AWS calls per request are counted with
botocore hooks and must not grow with the photos (exit 1 if they do). The
emulator's CPU time per request (psutil, the primary emulator's processes) is
printed beside the latency. At 10,000 items it times a one-item transaction
(the emulator used to copy the whole table for each).
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _django import django_setup
from _processes import cpu_seconds

django_setup("mra_site.settings.test")

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from devstack.regions import emulated_regions  # noqa: E402
from devstack.stack import PRIMARY  # noqa: E402
from mra_site.aws.clients import client, dynamodb_resource  # noqa: E402
from mra_site.aws.dynamodb import Update, items_put_batch, transact, write_stamp  # noqa: E402
from mra_site.resources import table_name  # noqa: E402
from photos.cursors import cursor_encode  # noqa: E402
from photos.records import META, Photo, gallery_shard_pks, media_keys, new_id, photo_item, photo_pk  # noqa: E402
from photos.selectors import _GALLERY_SCOPE  # noqa: E402


class AwsMeter:
    """Counts AWS API calls (and the HTTP attempts, retries included) and the
    time spent in them."""

    def __init__(self, *, state_table: str) -> None:
        self.state_table = state_table
        self.calls = 0
        self.state_reads = 0
        self.attempts = 0
        self.seconds = 0.0
        self._started: dict[int, float] = {}

    def attach(self, events) -> None:
        events.register("before-send", self._sent)
        events.register("before-parameter-build", self._parameters)
        events.register("before-call", self._before)
        events.register("after-call", self._after)

    def _parameters(self, params, **kwargs) -> None:
        # The routing state read: cached for MRA_STATE_CACHE_SECONDS per
        # process, so it comes with time, not with photos.
        if params.get("TableName") == self.state_table:
            self.state_reads += 1

    def _sent(self, **kwargs) -> None:
        self.attempts += 1

    def _before(self, context, **kwargs) -> None:
        self.calls += 1
        self._started[id(context)] = time.perf_counter()

    def _after(self, context, **kwargs) -> None:
        started = self._started.pop(id(context), None)
        if started is not None:
            self.seconds += time.perf_counter() - started

    def reset(self) -> tuple[int, int, int, float]:
        measured = self.calls, self.state_reads, self.attempts, self.seconds
        self.calls, self.state_reads, self.attempts, self.seconds = 0, 0, 0, 0.0
        return measured


def seed(count: int, *, start: int) -> list[dict]:
    """Write `count` photo items with the site's own item layout, 25 per request."""
    items = [_bench_item(n) for n in range(start, start + count)]
    items_put_batch(region=PRIMARY, table=table_name("photos"), items=items)
    return items


def _bench_item(n: int) -> dict:
    photo_id = new_id()
    original, thumbnail = media_keys(photo_id, "jpg")
    day, minute = divmod(n, 24 * 60)
    photo = Photo(
        id=photo_id,
        title=f"Bench photo {n}",
        owner=f"user{n % 50}",
        owner_id=f"id-user{n % 50}",
        created_at=f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T"
        f"{minute // 60:02d}:{minute % 60:02d}:00.000000Z",
        width=1600,
        height=1067,
        content_type="image/jpeg",
        original_key=original,
        thumbnail_key=thumbnail,
        comment_count=n % 7,
        media_region=PRIMARY,
    )
    return {**photo_item(photo), **write_stamp(PRIMARY)}


def cursor_after(newest_first: list[dict], shown: int) -> str:
    """The cursor the site hands out once it has shown the `shown` newest photos."""
    positions = dict.fromkeys(gallery_shard_pks(), "")
    for item in newest_first[:shown]:
        positions[item["gallery_pk"]] = item["gallery_sk"]
    return cursor_encode(key=positions, scope=_GALLERY_SCOPE)


class CpuMeter:
    """CPU seconds of a process and its children (psutil), between two reads."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.last = cpu_seconds(pid)

    def reset(self) -> float:
        now = cpu_seconds(self.pid)
        spent, self.last = now - self.last, now
        return spent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def measure_pages(
    browser: Client,
    meter: "AwsMeter",
    cpu: CpuMeter,
    newest_first: list[dict],
    *,
    limit: int,
    requests: int,
    rng: random.Random,
) -> tuple[dict[str, float], int]:
    """Latency of `requests` pages, each after a distinct random depth; wrong pages."""
    depths = rng.sample(range(len(newest_first) - limit), min(requests, len(newest_first) - limit))
    latencies, calls, wrong = [], [], 0
    meter.reset()
    cpu.reset()
    for depth in depths:
        cursor = cursor_after(newest_first, depth) if depth else ""
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        response = browser.get("/api/photos", params)
        latencies.append(time.perf_counter() - started)
        n, reads, _sent, _seconds = meter.reset()
        calls.append(n - reads)
        expected = [item["id"] for item in newest_first[depth : depth + limit]]
        if response.status_code != 200 or [p["id"] for p in response.json()["results"]] != expected:
            wrong += 1
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "calls_mean": statistics.fmean(calls),
        "calls_max": max(calls),
        "cpu_ms": cpu.reset() / len(depths) * 1000,
    }, wrong


def measure_transactions(cpu: CpuMeter, items: list[dict], *, count: int) -> dict[str, float]:
    """One-item transactions (an Update, as a comment's count is kept)."""
    table = table_name("photos")
    latencies = []
    cpu.reset()
    for item in items[:count]:
        started = time.perf_counter()
        transact(
            region=PRIMARY,
            writes=[
                Update(
                    table=table,
                    key={"pk": photo_pk(item["id"]), "sk": META},
                    add={"comment_count": 0},
                )
            ],
            action="bench transaction",
        )
        latencies.append(time.perf_counter() - started)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "cpu_ms": cpu.reset() / count * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=30_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--transactions", type=int, default=20)
    args = parser.parse_args()
    steps = sorted({s for s in (1_000, 10_000, args.photos) if s <= args.photos})

    log_dir = Path(tempfile.mkdtemp(prefix="mra-bench-"))
    with emulated_regions(
        log_dir,
        MRA_AWS_READ_TIMEOUT=60.0,
        MRA_AWS_CONNECT_TIMEOUT=10.0,
        MRA_AWS_MAX_ATTEMPTS=5,
    ) as emulators:
        cpu = CpuMeter(emulators[PRIMARY].proc.pid)
        return run(steps, cpu=cpu, requests=args.requests, transactions=args.transactions)


def run(steps: list[int], *, cpu: CpuMeter, requests: int, transactions: int) -> int:
    meter = AwsMeter(state_table=table_name("state"))
    for service in ("dynamodb", "s3", "cognito-idp"):
        meter.attach(client(service, PRIMARY).meta.events)
    meter.attach(dynamodb_resource(PRIMARY).meta.client.meta.events)
    browser = Client()
    rng = random.Random(13)
    items: list[dict] = []
    failures = 0
    means: list[float] = []
    print(
        f"{len(gallery_shard_pks())} gallery shards; "
        f"state cache {settings.MRA_STATE_CACHE_SECONDS}s; "
        f"{requests} distinct cursors per row; emulator CPU = the primary emulator's processes"
    )
    print(
        f"{'photos':>7} {'request':<22} {'p50 ms':>8} {'p99 ms':>8} {'AWS calls/req':>13} "
        f"{'max':>4} {'emu CPU ms':>10} {'wrong':>5}"
    )
    for target in steps:
        started = time.perf_counter()
        items += seed(target - len(items), start=len(items))
        seed_seconds = time.perf_counter() - started
        newest_first = sorted(items, key=lambda item: item["gallery_sk"], reverse=True)
        for limit in (6, 24):
            result, wrong = measure_pages(
                browser, meter, cpu, newest_first, limit=limit, requests=requests, rng=rng
            )
            failures += wrong
            means.append(result["calls_mean"])
            print(
                f"{target:>7} {f'API limit={limit}':<22} {result['p50_ms']:>8.1f} "
                f"{result['p99_ms']:>8.1f} {result['calls_mean']:>13.2f} {result['calls_max']:>4} "
                f"{result['cpu_ms']:>10.1f} {wrong:>5}"
            )
        if target == 10_000:
            result = measure_transactions(cpu, rng.sample(items, transactions), count=transactions)
            print(
                f"{target:>7} {'1-item transaction':<22} {result['p50_ms']:>8.1f} "
                f"{result['p99_ms']:>8.1f} {'':>13} {'':>4} {result['cpu_ms']:>10.1f}"
            )
        print(f"        (seeding to {target} photos took {seed_seconds:.1f}s)")

    grows = max(means) - min(means) >= 0.5
    print()
    print(
        f"AWS calls per page: {min(means):.2f} to {max(means):.2f} on average, "
        + ("growing with the photos" if grows else "whatever the number of photos")
    )
    print(f"load average {', '.join(f'{x:.2f}' for x in psutil.getloadavg())}")
    if failures:
        print(f"{failures} pages were not the newest-first slice they should be")
    return 1 if grows or failures else 0


if __name__ == "__main__":
    sys.exit(main())
