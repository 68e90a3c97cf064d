"""`manage.py routing status|fence|unfence|failover|failback`, as in the console."""

import getpass
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mra_site.aws.clients import regions
from routing.selectors import routing_state_for_operators
from routing.services import (
    routing_failback,
    routing_failover,
    routing_fence,
    routing_unfence,
)
from routing.status import routing_overview
from routing.transitions import TransitionRefused, TransitionResult, TransitionUnknown

WORKFLOWS = {
    "fence": routing_fence,
    "unfence": routing_unfence,
    "failover": routing_failover,
    "failback": routing_failback,
}


class Command(BaseCommand):
    help = "Show or change the routing state (fence, unfence, fail over, fail back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", *WORKFLOWS])
        parser.add_argument(
            "--force",
            action="store_true",
            help="promote even if the target region is not drained, or with a region down",
        )
        parser.add_argument("--reason", default="", help="why (kept in the audit log)")
        parser.add_argument(
            "--region",
            choices=list(regions()),
            help="act from this region (recorded in the audit log; default: MRA_REGION)",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="for failover/failback: wait up to SECONDS for the drain instead of refusing",
        )

    def handle(self, *args, **options) -> None:
        self.region = options["region"] or settings.MRA_REGION
        action = options["action"]
        if action == "status":
            self._status()
            return
        extra = {"wait": options["wait"]} if action in ("failover", "failback") else {}
        try:
            outcome = WORKFLOWS[action](
                actor=f"{getpass.getuser()} (cli)",
                reason=options["reason"] or f"{action} from the command line",
                force=options["force"],
                via_region=self.region,
                **extra,
            )
        except TransitionRefused as refusal:
            raise CommandError(f"refused ({refusal.code}): {refusal.detail}") from refusal
        except TransitionUnknown as unknown:
            raise CommandError(f"outcome unknown: {unknown.detail}") from unknown
        for step in outcome.steps:
            self._print_result(step)

    def _print_result(self, result: TransitionResult) -> None:
        record = result.record
        self.stdout.write(
            f"{result.previous.state.value} v{result.previous.version} → "
            f"{record.state.value} v{record.version}" + (" (forced)" if result.forced else "")
        )
        if result.drain:
            self.stdout.write(f"  drain: {result.drain.summary()}")
        if result.at_risk:
            self.stdout.write(f"  may be lost: {result.at_risk.summary()}")
            for key in result.at_risk.writes:
                self.stdout.write(f"    {key}")
        if result.unreached:
            self.stdout.write(
                f"  not reached: {', '.join(result.unreached)} (updated when it answers)"
            )
        self.stdout.write(
            json.dumps(
                routing_state_for_operators(record=record, serving_region=self.region), indent=2
            )
        )

    def _status(self) -> None:
        overview = routing_overview(with_actions=False)
        record = overview.record
        if record is None:
            raise CommandError(
                "no region answered with the routing state: "
                + "; ".join(f"{r}: {e}" for r, e in overview.replicas.errors.items())
            )
        self.stdout.write(
            f"state {record.state.value}, version {record.version}, writable region "
            f"{record.writable_region or 'none'}"
            + (f", fenced from {record.fenced_from}" if record.fenced_from else "")
        )
        self.stdout.write(f"changed {record.updated_at} by {record.updated_by}: {record.reason}")
        for row in overview.rows:
            region = row["region"]
            item = overview.replicas.items.get(region)
            replica = (
                f"v{item['version']} {item['state']}"
                if item
                else overview.replicas.errors.get(region, "no record")
            )
            health = row["health"]
            self.stdout.write(
                f"{region} ({row['role']}): replica {replica}; "
                f"site {'ready' if health.ready else 'not ready: ' + health.detail}; "
                f"{row['lag'].describe()}"
            )
