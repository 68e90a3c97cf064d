from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mra_site.aws.clients import regions
from photos.gc import orphan_media_delete, pending_purges_complete


class Command(BaseCommand):
    help = (
        "Remove every version of deleted photos' media (pending purges) and of media "
        "that no photo metadata refers to, older than a grace period."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace",
            type=int,
            default=settings.MRA_PHOTO_GC_GRACE_SECONDS,
            help="Seconds an object must be old before it counts as orphaned "
            "(uploads in flight write media before metadata).",
        )
        parser.add_argument(
            "--region",
            choices=regions(),
            help="Only this region (default: the region this process serves).",
        )
        parser.add_argument("--dry-run", action="store_true", help="List, do not delete.")

    def handle(self, *args, grace: int, region: str | None, dry_run: bool, **options) -> None:
        region = region or settings.MRA_REGION
        purged, failed = pending_purges_complete(region=region, dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        for photo_id in purged:
            self.stdout.write(f"{region}: {verb} the media of deleted photo {photo_id}")
        self.stdout.write(f"{region}: {verb} {len(purged)} deleted photos' media")
        for photo_id in failed:
            self.stderr.write(
                f"{region}: the media of deleted photo {photo_id} remain; the next run retries"
            )
        removed = orphan_media_delete(
            grace=timedelta(seconds=grace), region=region, dry_run=dry_run
        )
        verb = "would remove" if dry_run else "removed"
        for key in removed:
            self.stdout.write(f"{region}: {verb} {key}")
        self.stdout.write(f"{region}: {verb} {len(removed)} orphaned objects")
