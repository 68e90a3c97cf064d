"""The console updates itself: its JSON endpoint, the concurrent probes, the live page."""

import os
import re
from pathlib import Path

import psutil
import pytest
import requests
from django.test import Client

from replication.canary import heartbeat_write
from replication.services import replication_control_set
from routing.health import region_probes
from routing.states import RoutingState
from routing.status import routing_overview_live_clear
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import copy_heartbeat, move
from tests.routing.test_browser import sign_in
from tests.routing.test_console import signed_in

FORWARD = f"{PRIMARY}-to-{SECONDARY}"
WAITING = re.compile(
    rf"waiting for the heartbeat written at (\d\d:\d\d:\d\d) UTC to reach {SECONDARY} "
    r"— lag (\d+\.\d) s"
)
ROOT = Path(__file__).resolve().parents[2]


def artifacts() -> Path:
    path = Path(os.environ.get("MRA_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(autouse=True)
def fresh_live_cache():
    routing_overview_live_clear()
    yield
    routing_overview_live_clear()


def fenced_waiting_for_a_heartbeat() -> None:
    """us-west-2 holds an old heartbeat; us-east-1 is fenced and beat after the fence,
    and nothing copies it over: a failover waits for that heartbeat."""
    heartbeat_write(region=PRIMARY, seq=1)
    copy_heartbeat(source=PRIMARY, target=SECONDARY)
    move(RoutingState.FENCED, 1)
    heartbeat_write(region=PRIMARY, seq=2)


def test_status_json_is_for_operators_only(aws, tokens):
    anonymous = Client().get("/console/status.json")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_authenticated"
    member = signed_in("mike").get("/console/status.json")
    assert member.status_code == 403
    assert member.json() == {
        "error": "permission_denied",
        "detail": "Your account, mike, may not see the operator console.",
    }


def test_status_json_gives_state_drain_progress_and_one_lag(aws, tokens, settings):
    settings.MRA_REGION_URLS = {}  # no sites here: the probes say so at once
    operator = signed_in("olga")
    fenced_waiting_for_a_heartbeat()
    status = operator.get("/console/status.json")
    assert status.status_code == 200
    assert status["Cache-Control"].startswith("max-age=0")
    body = status.json()
    assert body["state"]["state"] == "fenced" and body["state"]["version"] == 2
    assert body["state"]["fenced_from"] == PRIMARY and body["state"]["reason"] == "test"
    drain = body["drain"]
    assert (drain["source"], drain["target"], drain["drained"]) == (PRIMARY, SECONDARY, False)
    match = WAITING.search(drain["headline"])
    assert match, drain["headline"]
    assert drain["heartbeat_written_at"][11:19] == match[1]
    # One figure for the lag: the drain, the region's panel and the replication panel.
    lag = body["regions"][SECONDARY]["lag_seconds"]
    assert lag is not None and drain["lag_seconds"] == lag
    assert body["replication"]["canary"][SECONDARY]["lag_seconds"] == lag
    assert match[2] == f"{lag:.1f}"
    assert body["regions"][PRIMARY]["probe"] == "no site URL configured (MRA_REGION_URLS)"
    # The replication panel names what the drain waits for, not just "pending 0".
    assert drain["headline"] in body["html"][f"direction-{FORWARD}"]
    assert "A promotion is waiting" in body["html"][f"direction-{FORWARD}"]
    # Waiting is the action; forcing sits in a closed <details>, as a secondary button.
    actions = body["html"]["actions"]
    assert "Waiting for the drain:" in actions and drain["headline"] in actions
    force = actions[actions.index('<details class="force"') :]
    assert 'class="button secondary force-button"' in force
    assert "button danger" not in actions
    assert body["keys"].keys() == body["html"].keys()


def test_console_page_renders_without_waiting_for_probes(aws, tokens, settings):
    settings.MRA_REGION_URLS = {PRIMARY: "http://127.0.0.1:9", SECONDARY: "http://127.0.0.1:9"}
    html = signed_in("olga").get("/console/").content.decode()
    dot = '<span class="dot" aria-hidden="true"></span>'
    for region in (PRIMARY, SECONDARY):
        assert f'data-testid="health-{region}">{dot}Site: checking…' in html
    assert "Site not ready" not in html
    assert 'src="/static/js/console.js"' in html


def frozen(site):
    """The site's processes suspended (SIGSTOP), as a region that stopped answering."""
    root = psutil.Process(site.proc.pid)
    processes = [root, *root.children(recursive=True)]
    for process in processes:
        process.suspend()
    return lambda: [process.resume() for process in processes]


NAVIGATIONS = "performance.getEntriesByType('navigation').length"


@pytest.mark.browser
def test_console_follows_the_state_by_itself_at_both_widths(
    aws, make_user, sites, page, settings, sites_state_dir
):
    make_user("olga", "Correct-horse-1", operator=True)
    site = sites[PRIMARY].url
    page.set_viewport_size({"width": 1366, "height": 800})
    # Probes run together, each within its timeout: with the secondary's site frozen,
    # the console opens at once, and its probe says "not answering" while the other
    # region's says ready, both here and on the page.
    thaw = frozen(sites[SECONDARY])
    try:
        sign_in(page, site, "/console/", "olga")
        # Its /readyz cached (3 s), so that a busy machine's first check is not the probe.
        assert requests.get(f"{site}/readyz", timeout=20).status_code == 200
        probes = region_probes(timeout=1.5)
        page.wait_for_function(
            f"""() => document.querySelector('[data-testid="health-detail-{SECONDARY}"]')
                && document.querySelector('[data-testid="health-{PRIMARY}"]')
                    .textContent.trim() === 'Site ready'""",
            timeout=20000,
        )
        on_page = page.get_by_test_id(f"region-{SECONDARY}").inner_text()
    finally:
        thaw()
    assert probes[PRIMARY].ready, probes[PRIMARY].detail
    assert not probes[SECONDARY].ready
    not_answering = f"not answering: {sites[SECONDARY].url}/readyz gave no answer within"
    assert probes[SECONDARY].detail == f"{not_answering} 1.5 s"
    assert not_answering in on_page and "Site not ready" in on_page
    page.evaluate("window.__sameConsole = true")

    settings.MRA_REPLICATION_STATE_DIR = sites_state_dir
    replication_control_set(action="pause", direction=FORWARD, seconds=None, actor="t", reason="")
    try:
        fenced_waiting_for_a_heartbeat()
        state = page.get_by_test_id("console-state-name")
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"console-state-name\"]')"
            ".textContent === 'fenced'",
            timeout=20000,
        )
        assert state.inner_text().lower() == "fenced"
        progress = page.get_by_test_id("drain-progress")
        # The first answer after the fence may predate the heartbeat written after it.
        page.wait_for_function(
            "() => (document.querySelector('[data-testid=\"drain-progress\"]') || {})"
            ".textContent?.includes('waiting for the heartbeat written at')",
            timeout=20000,
        )
        assert page.evaluate(NAVIGATIONS) == 1 and page.evaluate("window.__sameConsole")
        # Both places say the same thing, from the same answer.
        texts = page.evaluate(
            f"""() => [document.querySelector('[data-testid="drain-progress"]').textContent,
                document.querySelector('[data-testid="drain-{FORWARD}"]').textContent]"""
        )
        waiting = [WAITING.search(text) for text in texts]
        assert all(waiting), texts
        assert waiting[0][0] == waiting[1][0]
        assert page.get_by_test_id(f"paused-{FORWARD}").is_visible()
        # Forcing is folded away; the primary action is to wait.
        force = page.get_by_role("button", name=f"Fail over to {SECONDARY} (forced)")
        assert not force.is_visible()
        assert "this page updates by itself" in page.get_by_test_id("action-failover").inner_text()

        # A form being filled survives the updates: the lag changes every poll.
        unfence = page.get_by_test_id("action-active").get_by_label("Reason")
        unfence.fill("half-typed")
        first = progress.inner_text()
        page.wait_for_function(
            "(before) => document.querySelector('[data-testid=\"drain-progress\"]')"
            ".textContent.trim() !== before.trim()",
            arg=first,
            timeout=20000,
        )
        assert unfence.input_value() == "half-typed"
        assert page.evaluate("document.activeElement.id") == "reason-active"
        page.screenshot(path=str(artifacts() / "console-live-1366.png"), full_page=True)

        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_test_id("action-failover").locator("summary").click()
        assert force.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(artifacts() / "console-live-390.png"), full_page=True)
        assert page.evaluate(NAVIGATIONS) == 1 and page.evaluate("window.__sameConsole")

        # Signed out meanwhile: the console says so instead of going quietly stale.
        page.context.clear_cookies()
        page.wait_for_function(
            "() => document.querySelector('[data-console-live]').textContent"
            ".includes('Sign in with an operator account')",
            timeout=20000,
        )
    finally:
        replication_control_set(
            action="resume", direction=FORWARD, seconds=None, actor="t", reason=""
        )
