"""Stable ids for users that existed before the user registry."""

from dataclasses import dataclass, field

from django.conf import settings

from mra_site.aws import cognito
from mra_site.aws.clients import regions
from mra_site.aws.cognito import PoolUser

from . import gate, registry


@dataclass
class RegistrationReport:
    registered: list[str] = field(default_factory=list)
    # Names a pool holds twice in different case or width: the oldest keeps it.
    conflicts: list[str] = field(default_factory=list)


def users_register_existing() -> RegistrationReport:
    """Give every user of either pool that the registry lacks a stable id,
    recording the `sub` of each pool that holds the name. Runs in the writable
    region; running it again registers nothing new."""
    region = settings.MRA_REGION
    gate.assert_writable(region=region)
    by_name: dict[str, dict[str, PoolUser]] = {}
    report = RegistrationReport()
    for pool_region in regions():
        for user in cognito.users_list(region=pool_region):
            held = by_name.setdefault(registry.username_normalise(user.username), {})
            if pool_region in held:
                report.conflicts.append(f"{user.username!r} in {pool_region}")
                continue
            held[pool_region] = user
    for normalised, held in sorted(by_name.items()):
        if registry.user_by_name(username=normalised, region=region, consistent=True):
            continue
        first = min(held.values(), key=lambda u: (u.created, u.username))
        same_name = {r: u.sub for r, u in held.items() if u.username == first.username and u.sub}
        try:
            registry.user_claim(
                username=first.username,
                created_at=registry.now(),
                subs=same_name,
                pending=tuple(r for r in regions() if r not in same_name),
            )
        except registry.NameTaken:
            continue
        report.registered.append(first.username)
    return report
