import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from mra_site.aws.clients import is_emulated, other_region, regions
from mra_site.aws.errors import AwsError
from replication.engine.resync import region_resync
from replication.engine.runner import replicator_run


class Command(BaseCommand):
    # A worker, not a site: the URL configuration and templates are none of its business.
    requires_system_checks: list[str] = []
    help = (
        "Replicate tables (DynamoDB streams) and media buckets (S3 events) between the two "
        "emulated regions, in both directions, until stopped. A region whose tables come back "
        "empty (a restarted emulator) is re-synchronised from the other automatically; "
        "--resync-to REGION does that once and exits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--resync-to",
            metavar="REGION",
            help="copy every item and current object of the other region into REGION, then exit",
        )

    def handle(self, *args, resync_to=None, **options):
        if not is_emulated():
            raise CommandError(
                "replicate emulates S3 replication and DynamoDB global tables for the local "
                "emulators; on AWS the managed services replicate (MRA_AWS_ENDPOINTS is empty)."
            )
        if resync_to:
            self._resync(resync_to)
            return
        logging.getLogger("replication").setLevel(logging.INFO)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"replicating between {' and '.join(regions())}; Ctrl-C stops")
        replicator_run(stop=stop)

    def _resync(self, target: str) -> None:
        if target not in regions():
            raise CommandError(f"--resync-to: {target!r} is not one of {', '.join(regions())}")
        source = other_region(target)
        try:
            result = region_resync(source=source, target=target, report=self.stdout.write)
        except AwsError as exc:
            raise CommandError(f"re-synchronising {target} from {source} failed: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{target} re-synchronised from {source}: {result}"))
