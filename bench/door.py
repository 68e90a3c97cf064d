"""The front door's benchmark: what losing the writable region costs readers, and
how soon writes through the door follow an operator's failover.

    .venv/bin/python bench/door.py [--outage 6] [--rounds 3] [--writers 2]

Starts a local stack of its own (`devstack.stack.local_stack`: both emulated
regions, the replicator, the canary, both sites and the door), then:

(a) a reader GETs a page and an API read through the door every 100 ms while
    the writable region's site is frozen (SIGSTOP) for --outage seconds, then
    its emulator, then its site is killed and restarted, then its emulator is
    killed and restarted (empty: bootstrapped again, refilled by the
    replicator). For each: reads, failed reads, the time they took in total,
    the longest stretch readers saw only failures, read latency p50/p99.
(b) writers post through the door while the operator fails over and back
    (`routing_failover`/`routing_failback`, planned, waiting for the drain)
    --rounds times: the time from the command's start and from its return to
    the first write through the door accepted in the new region (negative:
    before the command returned), as median and worst.

It exits non-zero only when a correctness condition fails (an acknowledged
write missing after settling, a write through the door answered 421, a
process of the stack that died), never because of a time.
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _django import django_setup

django_setup("mra_site.settings.dev")

from devstack.stack import PRIMARY, SECONDARY, LocalStack, local_stack  # noqa: E402
from mra_site.polling import poll  # noqa: E402
from replication.drill.client import Stack  # noqa: E402
from replication.drill.reader import DoorReader, read_figures  # noqa: E402
from replication.drill.regionctl import region_processes  # noqa: E402
from replication.drill.runner import Drill  # noqa: E402
from replication.drill.writers import Writer, door_write_failures  # noqa: E402
from routing.drill import local_drill  # noqa: E402

SETTLE_AFTER_OUTAGE = 3.0
MOVE_TIMEOUT = 60.0


def outage_figures(
    stack: LocalStack, reader: DoorReader, name: str, seconds: float
) -> dict[str, Any]:
    """Reads through the door from the fault until the region answers again."""
    print(f"  {name}", flush=True)
    start = time.time()
    recover = outage_start(stack, name)
    time.sleep(seconds)
    recover()
    poll(
        lambda: reader.stack.request("GET", PRIMARY, "/readyz").ok and _door_reads_ok(reader),
        timeout=120,
        what=f"{PRIMARY} back after: {name}",
        interval=0.5,
        ignore=(Exception,),
    )
    time.sleep(SETTLE_AFTER_OUTAGE)
    return {"outage": name, **read_figures(reader.between(start, time.time()))}


def outage_start(stack: LocalStack, name: str) -> Callable[[], None]:
    """Takes the primary's site or emulator down; returns what brings it back."""
    site, emulator = stack.sites[PRIMARY], stack.emulators[PRIMARY]
    if name.endswith("frozen"):
        target = site if name.startswith("site") else emulator
        processes = region_processes(region=PRIMARY, urls=[target.url])
        processes.freeze()
        return processes.thaw
    if name == "site killed":
        site.kill()
        return site.start
    emulator.kill()

    def restart() -> None:
        emulator.start()
        stack.bootstrap()

    return restart


def _door_reads_ok(reader: DoorReader) -> bool:
    recent = reader.between(time.time() - 1.0, time.time())
    return bool(recent) and all(r.ok for r in recent)


def move(drill: Drill, writers: list[Writer], workflow: str) -> dict[str, Any]:
    """One planned move; when the first write through the door landed in the new region."""
    via, new_region = (PRIMARY, SECONDARY) if workflow == "failover" else (SECONDARY, PRIMARY)
    started = time.time()
    drill.operate(workflow, via=via, force=False, reason="door benchmark")
    returned = time.time()

    def first() -> float | None:
        times = [
            a.acked_at
            for w in writers
            for a in list(w.acks)
            if a.region == new_region and a.acked_at >= started
        ]
        return min(times) if times else None

    landed = poll(first, timeout=MOVE_TIMEOUT, what=f"a write in {new_region}", interval=0.05)
    return {
        "move": workflow,
        "from_start": round(landed - started, 3),
        "from_return": round(landed - returned, 3),
    }


def moves(stack: LocalStack, rounds: int, n_writers: int) -> tuple[list[dict[str, Any]], int]:
    """--rounds failovers and failbacks under writers through the door; the
    figures and the count of correctness failures."""
    drill = local_drill(
        site_urls=stack.site_urls,
        aws_endpoints={region: e.url for region, e in stack.emulators.items()},
        state_dir=Path(stack.env["MRA_REPLICATION_STATE_DIR"]),
        writers=n_writers,
        duration=0,
        unplanned=False,
        door_url=stack.door_url,
        write_rate=0.0,
    )
    writers = drill.new_writers()
    for writer in writers:
        writer.start()
    figures = []
    try:
        time.sleep(2)
        for number in range(rounds):
            for workflow in ("failover", "failback"):
                figures.append({"round": number + 1, **move(drill, writers, workflow)})
                print(f"  {figures[-1]}", flush=True)
                time.sleep(2)
    finally:
        drill.stop.set()
        for writer in writers:
            writer.join(timeout=40)
    acks = [a for w in writers for a in w.acks]
    missing = drill.settle([PRIMARY, SECONDARY], acks)
    failures = door_write_failures(list(writers))
    print(f"  acknowledged {len(acks)}, failed through the door {failures}")
    held = {region: len(lacking) for region, lacking in missing.items()}
    print(f"  missing after settling {held}")
    broken = sum(len(m) for m in missing.values()) + failures["421"]
    return figures, broken


def summary(outages: list[dict[str, Any]], figures: list[dict[str, Any]]) -> None:
    print("\n(a) reads through the door while the writable region is down")
    print(
        f"  {'outage':16} {'reads':>6} {'failed':>6} {'failed s':>9} {'longest':>8}"
        f" {'p50':>6} {'p99':>6}"
    )
    for o in outages:
        print(
            f"  {o['outage']:16} {o['reads']:6} {o['failed']:6} {o['failed_seconds_total']:9.2f}"
            f" {o['longest_failed_stretch']:8.2f} {o['latency_p50'] or 0:6.3f}"
            f" {o['latency_p99'] or 0:6.3f}"
        )
    print("\n(b) operator's planned move → first write through the door in the new region")
    print("  (seconds, median / worst)")
    for workflow in ("failover", "failback"):
        for since in ("from_start", "from_return"):
            values = [f[since] for f in figures if f["move"] == workflow]
            if values:
                print(
                    f"  {workflow:8} {since:11} {statistics.median(values):6.2f} / "
                    f"{max(values):6.2f}  ({len(values)} moves)"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=6.0, help="seconds each fault lasts")
    parser.add_argument("--rounds", type=int, default=3, help="failover + failback rounds")
    parser.add_argument("--writers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mra-bench-door-") as tmp:
        logs, state = Path(tmp) / "logs", Path(tmp) / "replication"
        logs.mkdir()
        state.mkdir()
        with local_stack(logs, state) as stack:
            print(f"door {stack.door_url}, sites {stack.site_urls}", flush=True)
            # The moves first: the killed emulator comes back empty and is refilled.
            print("(b) planned moves under writers through the door", flush=True)
            figures, broken = moves(stack, args.rounds, args.writers)
            print("(a) faults in the writable region", flush=True)
            stop = threading.Event()
            reader = DoorReader(stack=Stack(stack.site_urls, door_url=stack.door_url), stop=stop)
            reader.start()
            time.sleep(2)
            outages = []
            for name in ("site frozen", "emulator frozen", "site killed", "emulator killed"):
                outages.append(outage_figures(stack, reader, name, args.outage))
            stop.set()
            reader.join(timeout=10)
            dead = [p.name for p in stack.processes if not p.running]
    summary(outages, figures)
    if dead:
        print(f"\nFAILED: processes that died: {dead}")
    if broken:
        print(f"\nFAILED: {broken} acknowledged write(s) missing or 421(s) through the door")
    sys.exit(1 if dead or broken else 0)


if __name__ == "__main__":
    main()
