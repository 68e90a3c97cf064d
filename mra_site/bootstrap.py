"""What `manage.py mra_bootstrap` does, region by region."""

import time
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.utils.module_loading import import_string

from mra_site.aws import cognito, dynamodb, provision
from mra_site.aws.clients import endpoint_for, regions
from mra_site.aws.errors import AwsError, RegionUnavailable
from mra_site.polling import poll
from mra_site.resources import REGIONAL_TABLES, TABLES, media_bucket


class BootstrapRefused(Exception):
    pass


def site_origins() -> list[str]:
    return sorted(settings.MRA_REGION_URLS.values())


def wait_for_regions(timeout: float) -> None:
    """Block until every region answers, or raise RegionUnavailable."""
    deadline = time.monotonic() + timeout
    for region in regions():
        try:
            poll(
                partial(dynamodb.region_ping, region=region),
                timeout=max(0.0, deadline - time.monotonic()),
                what=f"region {region} answering",
                interval=0.5,
                ignore=(RegionUnavailable,),
            )
        except TimeoutError as exc:
            raise RegionUnavailable(str(exc), region=region) from exc


def provision_region(*, region: str) -> list[str]:
    """Create the bucket, tables and user pool of one region; list what changed."""
    changes = []
    bucket = media_bucket(region)
    if provision.ensure_bucket(region=region, bucket=bucket, cors_origins=site_origins()):
        changes.append(f"bucket {bucket}")
    for spec in (*TABLES, *REGIONAL_TABLES):
        if provision.ensure_table(region=region, spec=spec):
            changes.append(f"table {spec.name}")
    pool_id, client_id, changed = provision.ensure_user_pool(region=region)
    if changed:
        changes.append(f"user pool {pool_id} (client {client_id})")
    return changes


def demo_users(*, region: str) -> list[str]:
    changes = []
    users = [
        (settings.MRA_DEMO_USERNAME, settings.MRA_DEMO_PASSWORD, ()),
        (
            settings.MRA_DEMO_OPERATOR_USERNAME,
            settings.MRA_DEMO_OPERATOR_PASSWORD,
            (settings.MRA_OPERATORS_GROUP,),
        ),
    ]
    for username, password, groups in users:
        if cognito.admin_ensure_user(
            region=region,
            username=username,
            password=password,
            email=f"{username}@example.com",
            groups=groups,
        ):
            changes.append(f"demo user {username}" + (" (operator)" if groups else ""))
    return changes


def extra_steps() -> list[Callable[..., list[str]]]:
    return [import_string(path) for path in settings.MRA_BOOTSTRAP_STEPS]


def bootstrap_region(*, region: str, demo: bool) -> list[str]:
    """Provision one region, then run the demo and app steps; list what changed."""
    changes = provision_region(region=region)
    if demo:
        changes += demo_users(region=region)
    for step in extra_steps():
        changes += step(region=region, demo=demo)
    return changes


def bootstrap(*, demo: bool, report: Callable[[str], None]) -> int:
    """Bootstrap both regions; returns the number of changes made."""
    if demo:
        real = [r for r in regions() if not endpoint_for(r)]
        if real:
            raise BootstrapRefused(
                f"--demo creates users with known passwords and is refused against real AWS "
                f"(no endpoint override for {', '.join(real)} in MRA_AWS_ENDPOINTS)."
            )
    total = 0
    for region in regions():
        try:
            changes = bootstrap_region(region=region, demo=demo)
        except AwsError as exc:
            raise BootstrapRefused(f"bootstrap of {region} failed: {exc}") from exc
        for change in changes:
            report(f"{region}: created {change}")
        if not changes:
            report(f"{region}: up to date, nothing changed")
        total += len(changes)
    if all(endpoint_for(region) for region in regions()):
        total += _site_roles(report)
    return total


def _site_roles(report: Callable[[str], None]) -> int:
    """Locally only: the site's roles from the CloudFormation template in each
    emulator (devstack holds the template's reader and is never deployed)."""
    from devstack.iam import site_roles_ensure

    total = 0
    for region in regions():
        try:
            changes = site_roles_ensure(region=region)
        except AwsError as exc:
            raise BootstrapRefused(f"site roles in {region} failed: {exc}") from exc
        for change in changes:
            report(f"{region}: created {change}")
        total += len(changes)
    return total
