"""The site under many concurrent clients, through the front door.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--static-seconds 20]
                                   [--calls 20]

Starts a local stack of its own (`devstack.stack.local_stack`: demo users and
photos), then drives it through the front door with a pool of clients, each a
thread with its own `requests.Session`, signed in once through the token API
as the demo user. Each client in turn, at random: a gallery page (following
its "Load more" cursor, back to the first page at the end), a photo page, a
comment posted through the API, an upload of a ~50 KB image with an
Idempotency-Key. Then the same pool fetches a static file through the same
door for a phase of its own: the ceiling of this machine, door and site.

Prints per request kind the count, p50/p90/p99 latency, throughput and the
errors by status, and each kind's throughput as a share of the static
ceiling; the CPU time of each of the stack's processes during the load phase
(psutil). With `--calls N`, afterwards, the sites are restarted with
MRA_AWS_CALL_LOG on and N requests of each kind, one at a time, count the
AWS calls the sites make per request (the door's health checks' calls,
measured over an idle moment, are subtracted).

Exits non-zero only on a correctness failure: a 5xx or an unanswered
request, or an acknowledged comment or upload missing afterwards in either
region; never on a time.
"""

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
from _django import django_setup
from _processes import cpu_seconds

django_setup("mra_site.settings.dev")

from django.conf import settings  # noqa: E402
from soak import missing_writes, noisy_png  # noqa: E402

from devstack.stack import LocalStack, local_stack  # noqa: E402
from mra_site.aws import calllog  # noqa: E402
from replication.drill.client import Stack  # noqa: E402

KINDS = ("gallery", "photo", "comment", "upload")
WEIGHTS = (40, 30, 20, 10)
STATIC_PATH = "/static/favicon.svg"
REQUEST_TIMEOUT = 60.0
IMAGES = 16
_PHOTO_LINK = re.compile(r'href="/photos/([0-9a-f]{32})/"')
_NEXT_CURSOR = re.compile(r'\?cursor=([^"&]+)"[^>]*data-load-more')


@dataclass
class Sample:
    kind: str
    started: float
    seconds: float
    status: int  # 0: no answer
    error: str = ""
    # Who answered: the region that named itself (X-MRA-Region), else the door.
    by: str = "door"


@dataclass
class Shared:
    door: str
    stop: threading.Event
    images: list[bytes]
    photos: list[str]
    samples: list[Sample] = field(default_factory=list)
    acknowledged_photos: list[str] = field(default_factory=list)
    acknowledged_comments: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class Client(threading.Thread):
    def __init__(self, shared: Shared, number: int, *, static_only: bool = False) -> None:
        super().__init__(name=f"client-{number}", daemon=True)
        self.shared = shared
        self.number = number
        self.static_only = static_only
        self.session = requests.Session()
        self.rng = random.Random(number)
        self.cursor = ""
        self.token = ""
        self.sent = 0

    def sign_in(self) -> None:
        """Once per client; a 503 (the door between regions, a fence) is tried again
        after its Retry-After, as a client of the API would."""
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while True:
            response = self.session.post(
                f"{self.shared.door}/api/auth/token",
                json={
                    "username": settings.MRA_DEMO_USERNAME,
                    "password": settings.MRA_DEMO_PASSWORD,
                },
                timeout=REQUEST_TIMEOUT,
            )
            if response.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def run(self) -> None:
        while not self.shared.stop.is_set():
            if self.static_only:
                self.timed("static", lambda: self.session.get(self.url(STATIC_PATH), timeout=30))
                continue
            kind = self.rng.choices(KINDS, WEIGHTS)[0]
            getattr(self, kind)()

    def url(self, path: str) -> str:
        return f"{self.shared.door}{path}"

    def timed(self, kind: str, send) -> requests.Response | None:  # type: ignore[no-untyped-def]
        started = time.monotonic()
        error = ""
        try:
            response = send()
        except requests.RequestException as exc:
            response, error = None, f"{type(exc).__name__}: {exc}"[:200]
        status = response.status_code if response is not None else 0
        by = response.headers.get("X-MRA-Region", "door") if response is not None else "-"
        self.shared.record(Sample(kind, started, time.monotonic() - started, status, error, by))
        return response

    def gallery(self) -> None:
        path = f"/?cursor={self.cursor}" if self.cursor else "/"
        response = self.timed(
            "gallery", lambda: self.session.get(self.url(path), timeout=REQUEST_TIMEOUT)
        )
        if response is None or response.status_code != 200:
            self.cursor = ""
            return
        found = _PHOTO_LINK.findall(response.text)
        if found:
            with self.shared.lock:
                self.shared.photos.extend(p for p in found if p not in self.shared.photos[-200:])
        cursor = _NEXT_CURSOR.search(response.text)
        self.cursor = cursor.group(1) if cursor else ""

    def photo_id(self) -> str:
        with self.shared.lock:
            return self.rng.choice(self.shared.photos)

    def photo(self) -> None:
        photo = self.photo_id()
        self.timed(
            "photo",
            lambda: self.session.get(self.url(f"/photos/{photo}/"), timeout=REQUEST_TIMEOUT),
        )

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def comment(self) -> None:
        photo = self.photo_id()
        self.sent += 1
        response = self.timed(
            "comment",
            lambda: self.session.post(
                self.url(f"/api/photos/{photo}/comments"),
                json={"message": f"load {self.number}-{self.sent}"},
                headers=self.auth(),
                timeout=REQUEST_TIMEOUT,
            ),
        )
        if response is not None and response.status_code == 201:
            with self.shared.lock:
                self.shared.acknowledged_comments.append((photo, response.json()["id"]))

    def upload(self) -> None:
        self.sent += 1
        image = self.rng.choice(self.shared.images)
        headers = {**self.auth(), "Idempotency-Key": str(uuid.uuid4())}
        response = self.timed(
            "upload",
            lambda: self.session.post(
                self.url("/api/photos"),
                data={"title": f"load {self.number}-{self.sent}"},
                files={"image": ("load.png", image, "image/png")},
                headers=headers,
                timeout=REQUEST_TIMEOUT,
            ),
        )
        if response is not None and response.status_code == 201:
            photo = response.json()["id"]
            with self.shared.lock:
                self.shared.acknowledged_photos.append(photo)
                self.shared.photos.append(photo)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return "unknown CPU"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def drive(shared: Shared, clients: list[Client], seconds: float) -> float:
    """Run the clients for `seconds`; the phase's length."""
    shared.stop.clear()
    started = time.monotonic()
    for client in clients:
        client.start()
    shared.stop.wait(seconds)
    shared.stop.set()
    for client in clients:
        client.join(timeout=REQUEST_TIMEOUT + 5)
    return time.monotonic() - started


def report(samples: list[Sample], seconds: float, ceiling: float | None) -> float:
    """Print one line per kind; the total throughput."""
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    print(
        f"  {'kind':8} {'count':>6} {'req/s':>7} {'p50 s':>7} {'p90 s':>7} {'p99 s':>7}"
        f" {'of ceiling':>10}  errors by status"
    )
    for kind, group in sorted(
        by_kind.items(), key=lambda kv: KINDS.index(kv[0]) if kv[0] in KINDS else 9
    ):
        times = [s.seconds for s in group]
        rate = len(group) / seconds
        errors = Counter(f"{s.status} {s.by}" for s in group if not 200 <= s.status < 400)
        share = f"{rate / ceiling:10.1%}" if ceiling else f"{'':>10}"
        print(
            f"  {kind:8} {len(group):6} {rate:7.1f} {percentile(times, 0.5):7.3f}"
            f" {percentile(times, 0.9):7.3f} {percentile(times, 0.99):7.3f} {share}"
            f"  {dict(errors) or '-'}"
        )
    total = len(samples) / seconds
    times = [s.seconds for s in samples]
    share = f"{total / ceiling:10.1%}" if ceiling else f"{'':>10}"
    print(
        f"  {'all':8} {len(samples):6} {total:7.1f} {percentile(times, 0.5):7.3f}"
        f" {percentile(times, 0.9):7.3f} {percentile(times, 0.99):7.3f} {share}"
    )
    return total


def cpu_report(before: dict[str, float], stack: LocalStack, seconds: float, requests: int) -> None:
    """Each process's CPU over the phase, as a share of one core and per request:
    figures that hold on a machine other work shares, unlike latencies."""
    print(f"  CPU during the phase: {'share of one core':>17} {'ms per request':>14}")
    used = {p.name: cpu_seconds(p.proc.pid) - before[p.name] for p in stack.processes if p.proc}
    for name, cpu in [*used.items(), ("whole stack", sum(used.values()))]:
        print(f"    {name:18} {cpu / seconds:17.1%} {cpu * 1000 / max(requests, 1):14.1f}")


def cpu_now(stack: LocalStack) -> dict[str, float]:
    return {p.name: cpu_seconds(p.proc.pid) for p in stack.processes if p.proc}


# What the door's /readyz checks ask each region every MRA_READYZ_CACHE_SECONDS:
# never asked on the request paths measured here, so left out of their counts.
READINESS_OPERATIONS = frozenset(
    {"dynamodb.DescribeTable", "s3.HeadBucket", "cognito-idp.DescribeUserPool"}
)


def count_calls(stack: LocalStack, shared: Shared, log_dir: Path, per_kind: int) -> None:
    """AWS calls the sites make per request of each kind, one request at a time."""
    for site in stack.sites.values():
        site.stop()
        site.base_env = {**stack.env, "MRA_AWS_CALL_LOG": str(log_dir)}
        site.start()
    Stack(stack.site_urls).wait_ready(next(iter(stack.sites)), timeout=60)
    time.sleep(2)

    def site_calls() -> list[str]:
        return [
            f"{c['service']}.{c['operation']}"
            for c in calllog.read(log_dir)
            if c.get("process") == "site" and not c.get("presigned")
        ]

    def request_calls(calls: list[str]) -> list[str]:
        return [c for c in calls if c not in READINESS_OPERATIONS]

    client = Client(shared, 0)
    client.sign_in()
    idle_from, idle_seconds = len(request_calls(site_calls())), 5.0
    time.sleep(idle_seconds)
    idle_rate = (len(request_calls(site_calls())) - idle_from) / idle_seconds
    print(
        f"\nAWS calls per request (sites; readiness checks left out, the door's other"
        f" checks' {idle_rate:.1f} calls/s subtracted):"
    )
    for kind in KINDS:
        before = len(site_calls())
        first_sample = len(shared.samples)
        started = time.monotonic()
        for _ in range(per_kind):
            getattr(client, kind)()
        elapsed = time.monotonic() - started
        calls = request_calls(site_calls()[before:])
        operations = Counter(calls)
        per_request = (len(calls) - idle_rate * elapsed) / per_kind
        top = ", ".join(f"{op} {n / per_kind:.1f}" for op, n in operations.most_common(6))
        statuses = Counter(s.status for s in shared.samples[first_sample:])
        print(f"  {kind:8} {per_request:5.1f}  ({top})  statuses {dict(statuses)}")


def profile(stack: LocalStack, path: Path, seconds: float) -> subprocess.Popen:
    """py-spy sampling the primary region's site (its gunicorn master and workers)."""
    site = next(iter(stack.sites.values()))
    assert site.proc
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--subprocesses",
            "--pid",
            str(site.proc.pid),
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "-o",
            str(path),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--static-seconds", type=float, default=20.0)
    parser.add_argument("--calls", type=int, default=0, help="requests per kind to count calls")
    parser.add_argument("--call-log", type=Path, help="keep the AWS call log in this directory")
    parser.add_argument(
        "--profile", type=Path, help="py-spy's collapsed stacks of the primary site, mixed phase"
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores ({cpu_model()}), load average at start {load_average()}")
    failures: list[str] = []
    images = [noisy_png(seed) for seed in range(IMAGES)]
    with tempfile.TemporaryDirectory(prefix="mra-load-") as tmp:
        log_dir, state_dir, call_dir = (Path(tmp) / name for name in ("logs", "state", "calls"))
        for directory in (log_dir, state_dir, call_dir):
            directory.mkdir()
        with local_stack(log_dir, state_dir) as stack:
            first = requests.get(f"{stack.door_url}/", timeout=REQUEST_TIMEOUT)
            shared = Shared(
                stack.door_url, threading.Event(), images, _PHOTO_LINK.findall(first.text)
            )
            if not shared.photos:
                sys.exit("the demo gallery shows no photo: the bootstrap did not seed it")

            statics = [Client(shared, n, static_only=True) for n in range(args.clients)]
            print(
                f"\nstatic {STATIC_PATH}: {args.clients} clients, {args.static_seconds:.0f} s",
                flush=True,
            )
            before = cpu_now(stack)
            seconds = drive(shared, statics, args.static_seconds)
            ceiling = report(shared.samples, seconds, None)
            cpu_report(before, stack, seconds, len(shared.samples))
            static_samples, shared.samples = shared.samples, []

            clients = [Client(shared, n) for n in range(args.clients)]
            for client in clients:
                client.sign_in()
            print(f"\nmixed: {args.clients} clients, {args.seconds:.0f} s", flush=True)
            before = cpu_now(stack)
            spy = profile(stack, args.profile, args.seconds) if args.profile else None
            seconds = drive(shared, clients, args.seconds)
            if spy:
                spy.wait(timeout=60)
            report(shared.samples, seconds, ceiling)
            cpu_report(before, stack, seconds, len(shared.samples))
            print(f"  load average {load_average()}")

            broken = [
                s for s in static_samples + shared.samples if s.status == 0 or s.status >= 500
            ]
            if broken:
                for sample in broken[:5]:
                    print(f"  {sample.kind} {sample.status} from {sample.by} {sample.error}")
                failures.append(f"{len(broken)} requests answered 5xx or not at all")
            load = _Acknowledged(shared.acknowledged_photos, shared.acknowledged_comments)
            print(
                f"  acknowledged: {len(load.photos)} uploads, {len(load.comments)} comments",
                flush=True,
            )
            missing = missing_writes(Stack(stack.site_urls, timeout=30), load)  # type: ignore[arg-type]
            print(f"  acknowledged writes missing after settling: {missing}")
            if any(missing.values()):
                failures.append(f"writes lost: {missing}")
            if args.calls:
                if args.call_log:
                    args.call_log.mkdir(parents=True, exist_ok=True)
                count_calls(stack, shared, args.call_log or call_dir, args.calls)
    print(f"\nload average at end {load_average()}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        sys.exit(1)


@dataclass
class _Acknowledged:
    photos: list[str]
    comments: list[tuple[str, str]]


if __name__ == "__main__":
    main()
