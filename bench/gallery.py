"""Gallery benchmark: latency of the gallery API and page, and AWS calls per request.

    .venv/bin/python bench/gallery.py [--photos 10000] [--requests 200]

Starts two emulated regions of its own, seeds photo metadata in steps up to
--photos, and at each step requests the gallery API (several page sizes, first
page and a deep page reached by cursor) and the gallery page, in process through
Django's test client. Every AWS API call the site makes is counted and timed
with botocore event hooks (retries are counted apart). The calls per request
must not grow with the number of photos or the page size (presigning URLs is
local computation); the script exits 1 if they do.

Only metadata is seeded: the requests measured never read media.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _django import django_setup

django_setup("mra_site.settings.test")

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402

from devstack.regions import emulated_regions  # noqa: E402
from devstack.stack import PRIMARY  # noqa: E402
from mra_site.aws.clients import client, dynamodb_resource  # noqa: E402
from mra_site.aws.dynamodb import items_put_batch, write_stamp  # noqa: E402
from mra_site.resources import table_name  # noqa: E402
from photos.records import Photo, media_keys, new_id, photo_item  # noqa: E402


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


def seed(count: int, *, start: int) -> None:
    """Write `count` photo items with the site's own item layout, 25 per request."""
    items_put_batch(
        region=PRIMARY,
        table=table_name("photos"),
        items=(_bench_item(n) for n in range(start, start + count)),
    )


def _bench_item(n: int) -> dict:
    photo_id = new_id()
    original, thumbnail = media_keys(photo_id, "jpg")
    photo = Photo(
        id=photo_id,
        title=f"Bench photo {n}",
        owner=f"user{n % 50}",
        owner_id=f"id-user{n % 50}",
        created_at=f"2026-01-01T00:00:00.{n:06d}Z",
        width=1600,
        height=1067,
        content_type="image/jpeg",
        original_key=original,
        thumbnail_key=thumbnail,
        comment_count=n % 7,
        media_region=PRIMARY,
    )
    return {**photo_item(photo), **write_stamp(PRIMARY)}


def measure(meter: AwsMeter, request: Callable[[], object], *, requests: int) -> dict[str, float]:
    for _ in range(5):
        request()
    meter.reset()
    latencies, calls, state_reads = [], [], []
    attempts, aws_seconds, failures = 0, 0.0, 0
    for _ in range(requests):
        started = time.perf_counter()
        response = request()
        elapsed = time.perf_counter() - started
        n, reads, sent, seconds = meter.reset()
        if response.status_code != 200:
            failures += 1
            continue
        latencies.append(elapsed)
        calls.append(n - reads)
        state_reads.append(reads)
        attempts += sent
        aws_seconds += seconds
    latencies = sorted(latencies) or [float("nan")]
    total = sum(latencies)
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "calls_mean": statistics.fmean(calls),
        "calls_max": max(calls),
        "state_reads": statistics.fmean(state_reads) if state_reads else 0.0,
        "retries": attempts - sum(calls) - sum(state_reads),
        "failures": failures,
        "aws_share": aws_seconds / total if total else 0.0,
        "request_to_aws": total / aws_seconds if aws_seconds else float("inf"),
    }


def deep_cursor(browser: Client, *, limit: int, pages: int) -> str:
    cursor = ""
    for _ in range(pages):
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        for _attempt in range(3):
            response = browser.get("/api/photos", params)
            if response.status_code == 200:
                break
        cursor = response.json()["next_cursor"]
    return cursor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    steps = sorted({s for s in (100, 1_000, args.photos) if s <= args.photos})

    log_dir = Path(tempfile.mkdtemp(prefix="mra-bench-"))
    with emulated_regions(
        log_dir,
        # The emulator answers a GSI query by scanning the table: at 10,000
        # photos one query can outlast the site's timeouts on a busy machine.
        MRA_AWS_READ_TIMEOUT=60.0,
        MRA_AWS_CONNECT_TIMEOUT=10.0,
        MRA_AWS_MAX_ATTEMPTS=5,
    ):
        return run(steps, requests=args.requests)


def run(steps: list[int], *, requests: int) -> int:
    meter = AwsMeter(state_table=table_name("state"))
    for service in ("dynamodb", "s3", "cognito-idp"):
        meter.attach(client(service, PRIMARY).meta.events)
    meter.attach(dynamodb_resource(PRIMARY).meta.client.meta.events)

    browser = Client()
    rows = []
    seeded = 0
    print(f"state cache: {settings.MRA_STATE_CACHE_SECONDS}s; {requests} requests per row")
    print(
        f"{'photos':>7} {'request':<28} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'AWS calls/req':>13} {'max':>4} {'+state read':>11} {'retries':>7} "
        f"{'req/AWS time':>12} {'failed':>6}"
    )
    for target in steps:
        started = time.perf_counter()
        seed(target - seeded, start=seeded)
        seeded = target
        seed_seconds = time.perf_counter() - started
        cursor = deep_cursor(browser, limit=24, pages=3)
        cases: list[tuple[str, Callable[[], object]]] = [
            (f"API limit={limit}", lambda limit=limit: browser.get("/api/photos", {"limit": limit}))
            for limit in (6, 24, 96)
        ]
        cases.append(
            (
                "API limit=24, page 4 (cursor)",
                lambda cursor=cursor: browser.get("/api/photos", {"limit": 24, "cursor": cursor}),
            )
        )
        cases.append(("page / (24 photos)", lambda: browser.get("/")))
        cases.append(
            ("page /?cursor= (page 4)", lambda cursor=cursor: browser.get("/", {"cursor": cursor}))
        )
        for name, request in cases:
            result = measure(meter, request, requests=requests)
            rows.append((target, name, result))
            print(
                f"{target:>7} {name:<28} {result['p50_ms']:>8.1f} {result['p99_ms']:>8.1f} "
                f"{result['calls_mean']:>13.2f} {result['calls_max']:>4} "
                f"{result['state_reads']:>11.2f} {result['retries']:>7} "
                f"{result['request_to_aws']:>11.2f}x {result['failures']:>6}"
            )
        print(f"        (seeding to {target} photos took {seed_seconds:.1f}s)")

    # A call per photo would add at least 6 calls to a request (the smallest
    # page). The routing state read is shown apart: it comes once a second.
    means = [row[2]["calls_mean"] for row in rows]
    grows = max(means) - min(means) >= 0.5
    print()
    print(
        f"AWS calls per request: {min(means):.2f} to {max(means):.2f} on average, "
        + ("growing with photos or page size" if grows else "whatever the photos or page size")
    )
    print(
        "req/AWS time = request time / time inside AWS calls (1.0x would mean all time is AWS);\n"
        "the emulator answers a GSI query by scanning its table, so its latency grows with the\n"
        "photo count where DynamoDB's does not; the number of calls is what this bench checks."
    )
    return 1 if grows else 0


if __name__ == "__main__":
    sys.exit(main())
