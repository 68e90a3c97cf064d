import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mra_site.aws.clients import endpoint_for
from replication.drill.client import StackUnavailable
from routing.drill import DRILL_WRITE_RATE, local_drill

MAX_WRITE_RATE = 1000.0


class Command(BaseCommand):
    help = (
        "Run a failover drill against the running local stack: writers through the front "
        "door's public API (or the regional addresses), a planned or unplanned failover and "
        "a failback, then RTO and RPO as measured, and what the door's users saw."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["planned", "unplanned"])
        parser.add_argument("--writers", type=int, default=4, help="concurrent writers (1-64)")
        parser.add_argument(
            "--duration", type=float, default=30.0, help="seconds of load in all (6-3600)"
        )
        parser.add_argument(
            "--rate",
            type=float,
            default=DRILL_WRITE_RATE,
            help="writes a second, all writers together (0: each writes again as soon as it is "
            f"answered; at most {MAX_WRITE_RATE:g}); default %(default)s",
        )
        parser.add_argument(
            "--via",
            choices=["door", "regional"],
            default="door",
            help="where the writers go: the front door (MRA_DOOR_URL, default) or the regional "
            "addresses (MRA_REGION_URLS), following 421s as the pages do",
        )
        parser.add_argument("--json", metavar="FILE", help="also write the report as JSON here")

    def handle(
        self,
        *args,
        kind: str,
        writers: int,
        duration: float,
        rate: float,
        via: str,
        json: str | None,
        **opts,
    ):
        if not 1 <= writers <= 64:
            raise CommandError("--writers takes 1 to 64 writers.")
        if not 6 <= duration <= 3600:
            raise CommandError("--duration takes 6 to 3600 seconds.")
        if not 0 <= rate <= MAX_WRITE_RATE:  # also false for nan
            raise CommandError(f"--rate takes 0 to {MAX_WRITE_RATE:g} writes a second.")
        primary = settings.MRA_PRIMARY_REGION
        if kind == "unplanned" and not endpoint_for(primary):
            raise CommandError(
                "an unplanned drill stops the primary region's local processes; on AWS, "
                "inject the fault with AWS FIS instead (see deploy/README.md)."
            )
        drill = local_drill(
            site_urls=settings.MRA_REGION_URLS,
            aws_endpoints=settings.MRA_AWS_ENDPOINTS,
            writers=writers,
            duration=duration,
            write_rate=rate,
            unplanned=kind == "unplanned",
            door_url=settings.MRA_DOOR_URL if via == "door" else None,
            report=lambda line: self.stderr.write(line),
        )
        try:
            report = drill.run(kind)
        except (StackUnavailable, LookupError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.table())
        self.stdout.write("")
        self.stdout.write(json_dumps(report.as_dict()))
        if json:
            with open(json, "w", encoding="utf-8") as handle:
                handle.write(json_dumps(report.as_dict()))
        if report.errors:
            raise CommandError("the drill did not complete: " + "; ".join(report.errors))


def json_dumps(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True)
