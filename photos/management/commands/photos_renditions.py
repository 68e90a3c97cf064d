from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from mra_site.aws.clients import regions
from photos.services import renditions_backfill
from routing.fencing import WriteRefused


class Command(BaseCommand):
    help = (
        "Make the display size (WebP, longest side 1600 px) of every photo that has none, "
        "in the writable region; the replicator copies it to the other. Idempotent and "
        "resumable: photos that have one are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--region",
            choices=regions(),
            help="The writable region (default: the region this process serves).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, do not write.")

    def handle(self, *args, region: str | None, dry_run: bool, **options) -> None:
        region = region or settings.MRA_REGION
        try:
            counts = renditions_backfill(region=region, dry_run=dry_run)
        except WriteRefused as exc:
            raise CommandError(
                f"{region} does not take writes now ({exc.detail}); run this in the writable "
                "region."
            ) from exc
        verb = "would make" if dry_run else "made"
        self.stdout.write(
            f"{region}: {verb} {counts.made} display sizes; {counts.done_before} photos had one, "
            f"{counts.gone} were deleted or done meanwhile, {counts.no_original} lack their "
            f"original here, {counts.refused} originals unreadable ({counts.total} photos)"
        )
        if counts.no_original or counts.refused:
            self.stdout.write("Run again later for the photos without an original here.")
