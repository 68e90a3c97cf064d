from django.core.management.base import BaseCommand

from accounts.migration import users_register_existing
from photos.ownership import ownership_migrate


class Command(BaseCommand):
    help = (
        "Give users of the pools a stable id in the user registry, then set that id "
        "as the owner of their photos and comments. Run in the writable region; "
        "running it again changes nothing."
    )

    def handle(self, *args, **options) -> None:
        users = users_register_existing()
        for username in users.registered:
            self.stdout.write(f"registered {username}")
        for conflict in users.conflicts:
            self.stderr.write(
                f"not registered: {conflict} (another user holds that name in another case "
                "or width; rename or remove one in Cognito, then run this again)"
            )
        owners = ownership_migrate()
        for name in sorted(owners.unknown):
            self.stderr.write(f"no registered user named {name!r}: its items keep no owner id")
        self.stdout.write(
            f"{len(users.registered)} users registered, {owners.photos} photos and "
            f"{owners.comments} comments given their owner's id"
        )
