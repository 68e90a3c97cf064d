from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mra_site.aws.clients import regions
from photos.backfill import gallery_keys_backfill


class Command(BaseCommand):
    help = (
        "Move every photo to its gallery shard key (gallery_pk). Idempotent: "
        "photos already on their key are not written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--region",
            choices=regions(),
            help="Only this region (default: the region this process serves).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, do not write.")

    def handle(self, *args, region: str | None, dry_run: bool, **options) -> None:
        region = region or settings.MRA_REGION
        moved, total = gallery_keys_backfill(region=region, dry_run=dry_run)
        verb = "would move" if dry_run else "moved"
        self.stdout.write(f"{region}: {verb} {moved} of {total} photos to their gallery key")
