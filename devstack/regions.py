"""Two emulated AWS regions for this process: its Django settings point at them.

The test session and the benchmarks that need regions but no sites start them
this way; `stack.local_stack` starts a whole stack of separate processes.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.test import override_settings

from mra_site.aws.clients import clear_client_cache
from mra_site.bootstrap import bootstrap_region

from .iam import site_roles_ensure
from .processes import Emulator, processes_stop
from .stack import PRIMARY, SECONDARY


@contextmanager
def emulated_regions(
    log_dir: Path, *, bootstrap: bool = True, **overrides: Any
) -> Iterator[dict[str, Emulator]]:
    """{region: Emulator}, running (and bootstrapped without demo data, unless told not
    to) while the block runs; `overrides` are further settings for the block."""
    emulators = {region: Emulator(region, log_dir) for region in (PRIMARY, SECONDARY)}
    try:
        for emulator in emulators.values():
            emulator.start()
        with override_settings(
            MRA_PRIMARY_REGION=PRIMARY,
            MRA_SECONDARY_REGION=SECONDARY,
            MRA_REGION=PRIMARY,
            MRA_AWS_ENDPOINTS={region: e.url for region, e in emulators.items()},
            **overrides,
        ):
            clear_client_cache()
            if bootstrap:
                for region in emulators:
                    bootstrap_region(region=region, demo=False)
                for region in emulators:
                    site_roles_ensure(region=region)
            yield emulators
    finally:
        processes_stop(list(emulators.values()))
