"""`manage.py routing status|fence|unfence|failover|failback`, as in the console."""

import getpass
import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mra_site.aws.clients import regions
from mra_site.aws.errors import AwsError
from routing.selectors import StateRecord, routing_state_get, routing_state_public
from routing.services import (
    TransitionRefused,
    TransitionResult,
    routing_replicas_read,
    routing_state_transition,
)
from routing.states import RoutingState
from routing.status import routing_overview

WAIT_STEP_SECONDS = 0.5


class Command(BaseCommand):
    help = "Show or change the routing state (fence, unfence, fail over, fail back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["status", "fence", "unfence", "failover", "failback"]
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="promote even if the target region is not drained, or with a region down",
        )
        parser.add_argument("--reason", default="", help="why (kept in the audit log)")
        parser.add_argument(
            "--region",
            choices=list(regions()),
            help="act from this region: its replica gives the expected version "
            "(default: MRA_REGION)",
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
        if options["action"] == "status":
            self._status()
            return
        self.force = options["force"]
        self.wait = options["wait"]
        self.reason = options["reason"] or f"{options['action']} from the command line"
        self.actor = f"{getpass.getuser()} (cli)"
        getattr(self, f"_{options['action']}")()

    def _current(self) -> StateRecord:
        try:
            return routing_state_get(region=self.region, max_age=0)
        except AwsError as exc:
            newest = routing_replicas_read().newest()
            if newest is None or not self.force:
                raise CommandError(
                    f"{self.region} did not answer ({exc}). Use --region with the other region"
                    + (", and --force if the writing region is down." if not self.force else ".")
                ) from exc
            return routing_state_get(region=[r for r in regions() if r != self.region][0])

    def _move(self, target: RoutingState, current: StateRecord) -> StateRecord:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                result = routing_state_transition(
                    target=target,
                    expected_version=current.version,
                    actor=self.actor,
                    reason=self.reason,
                    force=self.force,
                    via_region=self.region,
                )
            except TransitionRefused as refusal:
                if refusal.error == "not_drained" and time.monotonic() < deadline:
                    time.sleep(WAIT_STEP_SECONDS)
                    continue
                raise CommandError(f"refused ({refusal.error}): {refusal.detail}") from refusal
            self._print_result(result)
            return result.record

    def _fence(self) -> None:
        current = self._current()
        if current.state is RoutingState.FENCED:
            raise CommandError(
                f"already fenced (version {current.version}, from {current.fenced_from})."
            )
        self._move(RoutingState.FENCED, current)

    def _unfence(self) -> None:
        current = self._current()
        if current.state is not RoutingState.FENCED:
            raise CommandError(f"not fenced: the state is {current.state.value}.")
        back = (
            RoutingState.FAILOVER
            if current.fenced_from == settings.MRA_SECONDARY_REGION
            else RoutingState.ACTIVE
        )
        self._move(back, current)

    def _failover(self) -> None:
        self._promote(RoutingState.FAILOVER, settings.MRA_SECONDARY_REGION)

    def _failback(self) -> None:
        self._promote(RoutingState.ACTIVE, settings.MRA_PRIMARY_REGION)

    def _promote(self, target: RoutingState, destination: str) -> None:
        current = self._current()
        if current.state is target:
            raise CommandError(f"{destination} is already writable ({current.state.value}).")
        if current.state is not RoutingState.FENCED:
            current = self._move(RoutingState.FENCED, current)
        self._move(target, current)

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
            json.dumps(routing_state_public(record=record, serving_region=self.region), indent=2)
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
