"""Failover drills on a local stack of their own: RTO and RPO, run after run.

    .venv/bin/python bench/drill.py [--writers 4] [--rate 12] [--duration 30] [--runs 3]
                                    [--via door|regional]

Starts the Procfile's processes on free ports (two emulated regions, the
bootstrap with demo users, the replicator, the canary, both sites and the
front door), waits for the replicator to carry the bootstrap over, then runs
planned and unplanned drills in turn (see `manage.py drill`; the writers go
through the front door unless `--via regional`) and
prints each report and a summary: RTO to the first write in the new region
(through the door: the RTO a front-door user sees) and to all writers, per
kind and move, as median and worst over the runs; writes missing after
settling; for unplanned drills the writes the survivor lacked at failover and
whether they lay in the window the forced transition named; through the door,
the writes that failed (421 apart) and the longest stretch of failed reads.
The writers make `--rate` writes a second together; `--rate 0` lets each write
again as soon as it is answered (a closed loop, which finds the machine's limit).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _django import django_setup

django_setup("mra_site.settings.dev")

from django.test.utils import override_settings  # noqa: E402

from devstack.stack import local_stack  # noqa: E402
from mra_site.polling import poll  # noqa: E402
from replication.drill.client import StackUnavailable  # noqa: E402
from replication.drill.runner import DrillReport  # noqa: E402
from replication.status import replication_status_get  # noqa: E402
from routing.drill import DRILL_WRITE_RATE, local_drill  # noqa: E402


def run(kind: str, stack, *, writers: int, duration: float, via: str, rate: float) -> DrillReport:
    drill = local_drill(
        site_urls=stack.site_urls,
        aws_endpoints={region: emulator.url for region, emulator in stack.emulators.items()},
        state_dir=Path(stack.env["MRA_REPLICATION_STATE_DIR"]),
        writers=writers,
        duration=duration,
        unplanned=kind == "unplanned",
        door_url=stack.door_url if via == "door" else None,
        write_rate=rate,
        report=lambda line: print(f"  {line}", flush=True),
    )
    return drill.run(kind)


# A new stack's replicator first carries the bootstrap's writes over; the drills
# measure a stack that has, after this much quiet.
QUIET_SECONDS = 10.0


def wait_until_replicated(state: Path) -> None:
    """Until the replicator runs both directions with nothing pending, then QUIET_SECONDS."""

    def replicated() -> bool:
        with override_settings(MRA_REPLICATION_STATE_DIR=state):
            directions = replication_status_get()["directions"].values()
        return all(
            d["running"] and not any(s["pending"] for s in d["datasets"].values())
            for d in directions
        )

    poll(replicated, timeout=300, interval=1.0, what="the new stack's replication")
    time.sleep(QUIET_SECONDS)


def _line(label: str, values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    shown = f"{statistics.median(known):6.2f} / {max(known):6.2f}" if known else "     — /      —"
    unknown = len(values) - len(known)
    return f"  {label:38} {shown}" + (f"  ({unknown} run(s) without one)" if unknown else "")


def summary(reports: list[DrillReport]) -> None:
    print("\nsummary (seconds; median / worst over the runs)")
    for kind in ("planned", "unplanned"):
        runs = [r for r in reports if r.kind == kind]
        for move in ("failover", "failback"):
            phases = [p for r in runs for p in r.phases if p["name"] == move]
            print(_line(f"{kind} {move} transition", [p.get("transition_seconds") for p in phases]))
            for measure in ("to_first_write", "to_all_writers", "rto_door"):
                if measure == "rto_door" and all(r.via != "door" for r in runs):
                    continue
                values = [p["rto"].get(measure) for p in phases]
                print(_line(f"{kind} {move} RTO {measure}", values))
        for dataset in ("tables", "media"):
            lags = [r.lag_p99(dataset) for r in runs]
            print(_line(f"{kind} replication lag p99 {dataset}", lags))
        missing = [sum(r.missing_after_settle.values()) for r in runs]
        acked = [r.acknowledged.get("total", 0) for r in runs]
        print(f"  {kind:9} acknowledged {acked}, missing after settling {missing}")
        if kind == "unplanned":
            lost = [r.lost_at_failover for r in runs]
            within = [r.loss_matches_at_risk for r in runs]
            predicted = [r.predicted_loss() for r in runs]
            print(
                f"  {kind:9} missing in the survivor at failover {lost}, "
                f"predicted (write rate × table lag p99) {predicted}, within window {within}"
            )
        door = [r for r in runs if r.via == "door"]
        if door:
            failures = [r.door_write_failures for r in door]
            stretches = [(r.reads or {}).get("longest_failed_stretch") for r in door]
            failed_reads = [(r.reads or {}).get("failed") for r in door]
            print(f"  {kind:9} writes through the door failed {failures}")
            print(
                f"  {kind:9} reads through the door: failed {failed_reads}, "
                f"longest failed stretch {stretches} s"
            )
        errors = [e for r in runs for e in r.errors]
        if errors:
            print(f"  {kind:9} errors: {errors}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=DRILL_WRITE_RATE)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--via", choices=["door", "regional"], default="door")
    args = parser.parse_args()
    reports = []
    with tempfile.TemporaryDirectory(prefix="mra-bench-drill-") as tmp:
        logs, state = Path(tmp) / "logs", Path(tmp) / "replication"
        logs.mkdir()
        state.mkdir()
        with local_stack(logs, state) as stack:
            wait_until_replicated(state)
            try:
                for number in range(args.runs):
                    for kind in ("planned", "unplanned"):
                        print(f"\n== {kind} drill, run {number + 1} of {args.runs}", flush=True)
                        report = run(
                            kind,
                            stack,
                            writers=args.writers,
                            duration=args.duration,
                            via=args.via,
                            rate=args.rate,
                        )
                        print(report.table(), flush=True)
                        reports.append(report)
            except StackUnavailable as exc:
                # A move refused leaves the stack fenced: later drills cannot start.
                print(f"\ndrills stopped: {exc}", flush=True)
    summary(reports)
    if any(sum(r.missing_after_settle.values()) for r in reports):
        raise SystemExit("acknowledged writes were missing after settling")


if __name__ == "__main__":
    main()
