import getpass
import json

from django.core.management.base import BaseCommand, CommandError

from replication.controls import control_as_dict
from replication.services import ControlRefused, replication_control_set
from replication.status import replication_status_get


class Command(BaseCommand):
    # A worker, not a site: the URL configuration and templates are none of its business.
    requires_system_checks: list[str] = []
    help = (
        "Drill controls for the local replicator: pause, resume or delay replication in one "
        "direction (both by default); status prints what the replicator reports."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["pause", "resume", "delay", "status"])
        parser.add_argument("seconds", nargs="?", type=float, help="for delay: extra lag")
        parser.add_argument("--direction", help="e.g. us-east-1-to-us-west-2 (default: both)")
        parser.add_argument("--reason", default="", help="why (kept in the audit log)")

    def handle(self, *args, action, seconds, direction, reason, **options):
        if action == "status":
            self.stdout.write(json.dumps(replication_status_get(), indent=1, default=str))
            return
        if action == "delay" and seconds is None:
            raise CommandError("delay needs SECONDS, e.g. `replication delay 2.5`")
        try:
            change = replication_control_set(
                action=action,
                direction=direction,
                seconds=seconds,
                actor=f"{getpass.getuser()} (cli)",
                reason=reason or f"{action} from the command line",
            )
        except ControlRefused as exc:
            raise CommandError(exc.detail) from exc
        for name, control in change.controls.items():
            state = control_as_dict(control)
            self.stdout.write(
                f"{name}: {'paused' if state['paused'] else 'running'}, "
                f"delay {state['delay_seconds']:g} s"
            )
