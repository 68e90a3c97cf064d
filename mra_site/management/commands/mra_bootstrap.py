from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mra_site.aws.errors import RegionUnavailable
from mra_site.bootstrap import BootstrapRefused, bootstrap, wait_for_regions


class Command(BaseCommand):
    help = "Create the buckets, tables and user pools of both regions (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Also create demo users and data (local emulators only).",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="Wait up to SECONDS for the regions' endpoints to answer first.",
        )

    def handle(self, *args, demo: bool, wait: float, **options):
        if wait:
            try:
                wait_for_regions(wait)
            except RegionUnavailable as exc:
                raise CommandError(f"{exc}. Is the emulator for {exc.region} running?") from exc
        try:
            changes = bootstrap(demo=demo, report=self.stdout.write)
        except BootstrapRefused as exc:
            raise CommandError(str(exc)) from exc
        if changes:
            self.stdout.write(self.style.SUCCESS(f"Bootstrap made {changes} change(s)."))
        else:
            self.stdout.write(self.style.SUCCESS("Nothing to change: both regions are up to date."))
        if demo:
            self.stdout.write("")
            self.stdout.write(self.style.SUCCESS(f"  The site: {settings.MRA_DOOR_URL}/"))
            self.stdout.write("  Regional addresses (operators and tests):")
            for region, url in settings.MRA_REGION_URLS.items():
                self.stdout.write(f"    {region}: {url}/")
            self.stdout.write(
                f"  demo user:     {settings.MRA_DEMO_USERNAME} / {settings.MRA_DEMO_PASSWORD}\n"
                f"  demo operator: {settings.MRA_DEMO_OPERATOR_USERNAME} / "
                f"{settings.MRA_DEMO_OPERATOR_PASSWORD}"
            )
