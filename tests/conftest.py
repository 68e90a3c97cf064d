"""Two emulated AWS regions (and, for end-to-end tests, two regional sites),
started and bootstrapped once per test session on free ports; every test that
asks for `aws` gets them with empty tables, bucket, queues and pools."""

import os
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import override_settings

from devstack.data import Items, region_data_restore, tables_snapshot
from devstack.door import Door
from devstack.iam import site_roles_ensure
from devstack.processes import Emulator, Site, processes_stop
from devstack.regions import emulated_regions
from mra_site.aws.clients import region_breaker
from mra_site.aws.cognito import clear_pool_cache
from mra_site.aws.errors import AwsError
from mra_site.bootstrap import bootstrap_region
from mra_site.polling import poll

PRIMARY = "us-east-1"
SECONDARY = "us-west-2"

# The sites' AWS calls are checked against the template's policy at the end.
pytest_plugins = ["tests.aws_calls"]


DEPLOY_TESTS = Path(__file__).parent / "deploy"
# Fixtures that start processes of their own for one test: such tests are `slow`.
PROCESS_FIXTURES = {"replicator", "door", "fake_door"}


def pytest_collection_modifyitems(config, items):
    """Browser tests use the shared sites; browser tests, tests that start a process
    of their own (a replicator, a whole stack) and the offline deploy checks
    (templates, Zappa, production settings) form the `slow` tier with the drills."""
    for item in items:
        if item.path.is_relative_to(DEPLOY_TESTS):
            item.add_marker(pytest.mark.slow)
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.usefixtures("sites"))
            item.add_marker(pytest.mark.slow)
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())) or (
            "stops_region" in item.keywords
        ):
            item.add_marker(pytest.mark.slow)
    # Longest first, so that with two workers neither is left with a long file
    # at the end: files with a drill, then files with a test of the slow tier,
    # then the rest. A file's tests keep the order they are written in
    # (--dist loadfile sends whole files).
    drills = {item.path for item in items if "drill" in item.keywords}
    slow = {item.path for item in items if "slow" in item.keywords}
    items.sort(key=lambda item: (item.path not in drills, item.path not in slow))


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("logs")


def _clear_caches() -> None:
    """Forget what was read from the regions (not the clients: endpoints stay)."""
    from accounts.registry import lookup_cache
    from accounts.tokens import jwks_cache
    from routing.selectors import clear_state_cache

    region_breaker.reset()
    clear_pool_cache()
    clear_state_cache()
    jwks_cache.clear()
    lookup_cache.clear()


@pytest.fixture(scope="session")
def emulators(log_dir) -> Iterator[dict[str, Emulator]]:
    """{region: Emulator}, running; the Django settings of this process point at them."""
    with emulated_regions(log_dir, bootstrap=False) as regions:
        _clear_caches()
        yield regions


# The generation of each emulator that was bootstrapped last, and what the
# first bootstrap of each region wrote (a later one may copy a test's state
# from its peer).
_bootstrapped: dict[str, int] = {}
# How long the test sites keep the routing state they read: shorter than a
# deployment's second, so that a test that moved it costs the next one little.
SITES_STATE_CACHE_SECONDS = 0.25

# The session's sites once started (the `sites` fixture), by region.
_running_sites: dict[str, Site] = {}
_baseline: dict[str, Items] = {}


def _provisioned(emulators: dict[str, Emulator]) -> bool:
    """Start a stopped emulator and bootstrap a wiped one; True when one was stopped."""
    restarted = False
    wiped = []
    for region, emulator in emulators.items():
        if not emulator.running:
            emulator.start()
            restarted = True
        if _bootstrapped.get(region) != emulator.generation:
            _clear_caches()
            bootstrap_region(region=region, demo=False)
            wiped.append(region)
    # The site's roles name both regions' pools: once both are provisioned.
    for region in wiped:
        site_roles_ensure(region=region)
        _bootstrapped[region] = emulators[region].generation
        _baseline.setdefault(region, tables_snapshot(region=region))
    return restarted


def _state_moved() -> bool:
    """Whether the routing state differs from the bootstrap's (version 1)."""
    from routing.selectors import state_item_read

    try:
        item = state_item_read(region=PRIMARY)
    except AwsError:
        return True
    return not item or int(item["version"]) != 1


@pytest.fixture
def aws(emulators, request) -> Iterator[dict[str, Emulator]]:
    """Both regions bootstrapped without demo data, their data emptied.

    A test that reads the tables' streams from their start (the replicator,
    `fresh_streams`) gets new tables, hence new streams, instead.
    """
    _provisioned(emulators)
    fresh_streams = "fresh_streams" in request.fixturenames
    # Running sites cache the routing state (SITES_STATE_CACHE_SECONDS): after a
    # test that moved it, they see the restored one only once that has passed.
    moved = bool(_running_sites) and _state_moved()
    # Each region is its own process: empty both at once.
    with ThreadPoolExecutor(max_workers=len(emulators)) as pool:
        list(
            pool.map(
                lambda region: region_data_restore(
                    region=region, baseline=_baseline[region], fresh_streams=fresh_streams
                ),
                emulators,
            )
        )
    _clear_caches()
    if moved:
        time.sleep(SITES_STATE_CACHE_SECONDS)
    yield emulators
    if _provisioned(emulators) and (_running_sites or "sites" in request.fixturenames):
        # Site processes that saw the region down (the door's checks ask them all
        # the time) wait out their cooldown before asking it again: the next
        # test starts once every running site answers ready.
        time.sleep(settings.MRA_AWS_REGION_COOLDOWN)
        for site in _running_sites.values():
            last: dict[str, str] = {}

            def ready(site: Site = site, last: dict[str, str] = last) -> bool:
                response = requests.get(f"{site.url}/readyz", timeout=5)
                last["answer"] = response.text
                return response.status_code == 200

            try:
                poll(
                    ready,
                    timeout=30,
                    what=f"{site.url} ready again after its region restarted",
                    ignore=(requests.RequestException,),
                )
            except TimeoutError as exc:
                # A site not ready by then is a fault of its own (it should assume its
                # role again on the first refusal): say so, and give the next test a
                # fresh one.
                warnings.warn(
                    f"{exc}; its last /readyz: {last.get('answer')}; restarting it",
                    stacklevel=1,
                )
                site.stop()
                site.start()


@pytest.fixture
def reset_after(aws) -> Iterator[None]:
    """For a test that creates resources beyond the project's own (a
    CloudFormation stack): both emulators are reset after it, and `aws`
    bootstraps them again."""
    yield
    for emulator in aws.values():
        emulator.reset()


@pytest.fixture
def fresh_streams() -> None:
    """Ask `aws` for tables whose streams hold only this test's records."""


@pytest.fixture
def region(settings):
    """Switch the region this test process serves: region("us-west-2")."""

    def switch(name: str) -> str:
        settings.MRA_REGION = name
        return name

    return switch


@pytest.fixture(scope="session")
def sites_state_dir(tmp_path_factory) -> Path:
    """The replication state directory the sites read (drill controls, replicator
    status): the test run's own, never a running local stack's, and never one test's."""
    return tmp_path_factory.mktemp("sites-replication-state")


@pytest.fixture(scope="session")
def sites(emulators, log_dir, sites_state_dir, aws_call_log) -> Iterator[dict[str, Site]]:
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
        "MRA_REPLICATION_STATE_DIR": str(sites_state_dir),
        "MRA_AWS_CALL_LOG": str(aws_call_log),
        "MRA_STATE_CACHE_SECONDS": str(SITES_STATE_CACHE_SECONDS),
    }
    for site in pending.values():
        site.base_env = base_env
        site.start()
    _running_sites.update(pending)
    with override_settings(MRA_REGION_URLS=ports):
        yield pending
    _running_sites.clear()
    processes_stop(list(pending.values()))


@pytest.fixture(scope="session")
def door_process(sites, log_dir) -> Iterator[Door]:
    """The front door (HAProxy) over the session's two sites."""
    front = Door({region: site.url for region, site in sites.items()}, log_dir)
    front.start()
    yield front
    front.stop()


@pytest.fixture
def door(door_process, aws) -> Door:
    """The front door, once it routes reads to a ready region and writes to a writable
    one again: the sites' readiness and state (cached) follow the emulators being
    emptied and the state put back by the test before. While a site restarted by
    that test comes back, the door may drop a connection: that too is "not yet"."""
    poll(
        lambda: requests.get(f"{door_process.url}/readyz", timeout=5).status_code == 200,
        timeout=30,
        what="the front door reaching a ready region",
        ignore=(requests.ConnectionError,),
    )
    # A POST goes to the door's writes backend: a site answers it (naming itself,
    # here with 405) only once the door has a region that takes writes.
    poll(
        lambda: "X-MRA-Region" in requests.post(f"{door_process.url}/healthz", timeout=5).headers,
        timeout=30,
        what="the front door reaching a writable region",
        ignore=(requests.ConnectionError,),
    )
    return door_process


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
        registered_user(username)
        return username, password

    return make


def registered_user(username: str, subs: dict[str, str] | None = None):
    """The user's record in both regions' registries (as the identity migration
    writes it in the writable region and replication copies it), with the subs
    of both pools unless given."""
    from accounts import registry
    from mra_site.aws import cognito
    from mra_site.aws.dynamodb import items_put_batch
    from mra_site.resources import table_name

    if subs is None:
        found = {r: cognito.user_sub(region=r, username=username) for r in (PRIMARY, SECONDARY)}
        subs = {r: sub for r, sub in found.items() if sub}
    current = registry.user_by_name(username=username, region=PRIMARY, consistent=True)
    record = registry.UserRecord(
        id=current.id if current else f"id-{registry.username_normalise(username)}",
        username=username,
        normalised=registry.username_normalise(username),
        created_at=registry.now(),
        subs=subs,
    )
    for region in (PRIMARY, SECONDARY):
        items_put_batch(
            region=region,
            table=table_name("users"),
            items=registry.record_items(record, region=region),
            action=f"register {username}",
        )
    registry.lookup_cache.clear()
    return record


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


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where browser tests save their screenshots: $MRA_TEST_ARTIFACTS, else test-artifacts/."""
    default = Path(__file__).resolve().parent.parent / "test-artifacts"
    directory = Path(os.environ.get("MRA_TEST_ARTIFACTS") or default)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies) and page, laptop-sized."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15000)
    yield context.new_page()
    context.close()
