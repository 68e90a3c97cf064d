"""The routing write gate, as accounts reaches it.

Sign-up claims a name and so is a write like any other; routing sits above
accounts (it imports accounts' permissions), so the gate comes through the
composition root's settings (MRA_ACCOUNTS_WRITE_GATE) rather than an import.
"""

from collections.abc import Sequence
from importlib import import_module
from types import ModuleType

from django.conf import settings

from mra_site.aws.dynamodb import Write


def _fencing() -> ModuleType:
    return import_module(settings.MRA_ACCOUNTS_WRITE_GATE)


def assert_writable(*, region: str | None = None) -> None:
    """Raise the gate's refusal (an ApplicationError: 421, or 503 while fenced)
    unless `region` takes writes now."""
    _fencing().assert_writable(region=region)


def guarded_write(*, writes: Sequence[Write], region: str, action: str) -> None:
    """Commit `writes` in one transaction while `region` is writable."""
    _fencing().guarded_write(writes=writes, region=region, action=action)


def writable_region() -> str | None:
    """The region that takes writes now (from the cached routing state)."""
    region: str | None = _fencing().routing_state_get(region=settings.MRA_REGION).writable_region
    return region
