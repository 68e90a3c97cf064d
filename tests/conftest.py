"""Two emulated AWS regions (and, for end-to-end tests, two regional sites),
started once per test session on free ports; clean resources for every test."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from mra_site.aws.clients import clear_client_cache, region_breaker
from mra_site.aws.cognito import clear_pool_cache
from mra_site.bootstrap import bootstrap_region
from tests.support.processes import Emulator, Site

PRIMARY = "us-east-1"
SECONDARY = "us-west-2"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.usefixtures("sites"))


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("logs")


def _clear_caches() -> None:
    """Forget what was read from the regions (not the clients: endpoints stay)."""
    from accounts.tokens import jwks_cache
    from routing.selectors import clear_state_cache

    region_breaker.reset()
    clear_pool_cache()
    clear_state_cache()
    jwks_cache.clear()


@pytest.fixture(scope="session")
def emulators(log_dir) -> Iterator[dict[str, Emulator]]:
    """{region: Emulator}; the Django settings of this process point at them."""
    regions = {region: Emulator(region, log_dir) for region in (PRIMARY, SECONDARY)}
    for emulator in regions.values():
        emulator.start()
    overrides = override_settings(
        MRA_PRIMARY_REGION=PRIMARY,
        MRA_SECONDARY_REGION=SECONDARY,
        MRA_REGION=PRIMARY,
        MRA_AWS_ENDPOINTS={region: e.url for region, e in regions.items()},
    )
    overrides.enable()
    clear_client_cache()
    _clear_caches()
    yield regions
    overrides.disable()
    for emulator in regions.values():
        emulator.stop()


@pytest.fixture
def aws(emulators) -> Iterator[dict[str, Emulator]]:
    """Both regions reset and bootstrapped without demo data."""
    for emulator in emulators.values():
        if emulator.proc is None:
            emulator.start()
        emulator.reset()
    _clear_caches()
    for region in emulators:
        bootstrap_region(region=region, demo=False)
    yield emulators
    restarted = False
    for emulator in emulators.values():
        if emulator.proc is None:
            emulator.start()
            restarted = True
    if restarted:
        # Site processes that saw the region down wait out their cooldown
        # before asking it again.
        time.sleep(settings.MRA_AWS_REGION_COOLDOWN)


@pytest.fixture
def region(settings):
    """Switch the region this test process serves: region("us-west-2")."""

    def switch(name: str) -> str:
        settings.MRA_REGION = name
        return name

    return switch


@pytest.fixture(scope="session")
def sites(emulators, log_dir) -> Iterator[dict[str, Site]]:
    """{region: Site}: one gunicorn site per region, pointed at the emulators."""
    ports = {}
    pending = {region: Site(region, log_dir, {}) for region in emulators}
    for region, site in pending.items():
        ports[region] = site.url
    base_env = {
        "MRA_PRIMARY_REGION": PRIMARY,
        "MRA_SECONDARY_REGION": SECONDARY,
        "MRA_AWS_ENDPOINTS": ",".join(f"{r}={e.url}" for r, e in emulators.items()),
        "MRA_REGION_URLS": ",".join(f"{r}={url}" for r, url in ports.items()),
        "MRA_LOG_LEVEL": "WARNING",
        # The test run's replication state, never a running local stack's.
        "MRA_REPLICATION_STATE_DIR": str(settings.MRA_REPLICATION_STATE_DIR),
    }
    for site in pending.values():
        site.base_env = base_env
        site.start()
    with override_settings(MRA_REGION_URLS=ports):
        yield pending
    for site in pending.values():
        site.stop()


@pytest.fixture
def make_user(aws):
    """Create a confirmed user in both regions' pools; returns (username, password)."""
    from mra_site.aws import cognito

    def make(username: str = "alice", password: str = "Correct-horse-1", *, operator: bool = False):
        groups = (settings.MRA_OPERATORS_GROUP,) if operator else ()
        for region in aws:
            cognito.admin_ensure_user(
                region=region,
                username=username,
                password=password,
                email=f"{username}@example.com",
                groups=groups,
            )
        return username, password

    return make


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, once per session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies) and page, laptop-sized."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()
