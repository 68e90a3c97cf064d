import json

from django.core.management.base import BaseCommand, CommandError

from replication.controls import (
    control_as_dict,
    replication_delay,
    replication_pause,
    replication_resume,
)
from replication.directions import UnknownDirection, direction_parse
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

    def handle(self, *args, action, seconds, direction, **options):
        if action == "status":
            self.stdout.write(json.dumps(replication_status_get(), indent=1, default=str))
            return
        try:
            chosen = direction_parse(direction) if direction else None
        except UnknownDirection as exc:
            raise CommandError(str(exc)) from exc
        if action == "pause":
            controls = replication_pause(direction=chosen)
        elif action == "resume":
            controls = replication_resume(direction=chosen)
        else:
            if seconds is None:
                raise CommandError("delay needs SECONDS, e.g. `replication delay 2.5`")
            try:
                controls = replication_delay(seconds=seconds, direction=chosen)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        for name, control in controls.items():
            state = control_as_dict(control)
            self.stdout.write(
                f"{name}: {'paused' if state['paused'] else 'running'}, "
                f"delay {state['delay_seconds']:g} s"
            )
