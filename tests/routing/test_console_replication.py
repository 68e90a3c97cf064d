"""The console's replication section and its drill controls."""

import os
import re
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import Client

from devstack.processes import Replicator
from mra_site.polling import poll
from replication.controls import replication_controls_get
from replication.directions import MEDIA_DATASET, directions_all
from replication.engine.runner import status_file
from replication.engine.stats import DatasetStats
from replication.files import json_write
from replication.files import state_dir as state_dir_default
from replication.status import replication_overview_get
from routing.selectors import routing_history_list
from routing.states import RoutingState
from routing.status import routing_overview
from routing.templatetags.routing import console_time
from tests.conftest import PRIMARY, SECONDARY
from tests.replication.helpers import REPLICATED
from tests.routing.helpers import move
from tests.routing.test_console import signed_in

FORWARD = f"{PRIMARY}-to-{SECONDARY}"
BACKWARD = f"{SECONDARY}-to-{PRIMARY}"
SCREENSHOTS = Path(os.environ.get("MRA_SCREENSHOT_DIR", tempfile.gettempdir()))
CONSOLE_TIME = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d:\d\d UTC")


@pytest.fixture
def state_dir(tmp_path, settings):
    path = tmp_path / "replication"
    path.mkdir()
    settings.MRA_REPLICATION_STATE_DIR = path
    return path


@pytest.fixture
def operator(aws, tokens, state_dir) -> Client:
    return signed_in("olga")


def report_status(*, failing_media: bool = False, updated_at: float | None = None) -> None:
    """Status files for both directions, written as the replicator's runner writes them."""
    now = time.time()
    for direction in directions_all():
        datasets = {}
        for key in ("state", "audit", "canary", "photos", MEDIA_DATASET):
            stats = DatasetStats()
            stats.polled_at = now - 1
            if key == "photos":
                for lag in (0.2, 0.3, 0.4):
                    stats.record_applied(origin_time=now - lag, now=now)
                stats.pending = 7
            if key == MEDIA_DATASET and failing_media:
                stats.record_error("SlowDown: the bucket did not answer")
            datasets[key] = stats.as_dict()
        json_write(
            status_file(direction),
            {
                "direction": direction.name,
                "source": direction.source,
                "target": direction.target,
                "updated_at": updated_at or now,
                "paused": False,
                "delay_seconds": 0.0,
                "retrying_in_seconds": 0,
                "rebuilding_source": False,
                "resync": None,
                "datasets": datasets,
            },
        )


def section(html: str) -> str:
    start = html.index('data-testid="replication"')
    return html[start : html.index("Change the state", start)]


def post_control(client: Client, data: dict, *, follow: bool = True):
    client.get("/console/")
    token = client.cookies["csrftoken"].value
    return client.post(
        "/console/replication/", {**data, "csrfmiddlewaretoken": token}, follow=follow
    )


def test_section_shows_what_the_replicator_reports(operator):
    report_status(failing_media=True)
    html = operator.get("/console/").content.decode()
    part = section(html)
    assert "Replicator running" in part
    assert f"{PRIMARY} → {SECONDARY}" in part and f"{SECONDARY} → {PRIMARY}" in part
    row = re.search(rf'data-testid="dataset-{FORWARD}-photos">(.*?)</tr>', part, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells[0] == "0.300 s"  # p50 of 0.2, 0.3, 0.4
    assert cells[1] == "0.400 s"
    assert cells[2] == "7"
    assert CONSOLE_TIME.fullmatch(cells[3])
    for key in ("state", "audit", "canary", "photos", "media"):
        assert f'data-testid="dataset-{BACKWARD}-{key}"' in part
    assert "SlowDown: the bucket did not answer" in part
    assert "applying" in part and "paused" not in part


def test_section_says_when_the_replicator_is_not_running(operator):
    report_status(updated_at=time.time() - 60)
    part = section(operator.get("/console/").content.decode())
    assert "Replicator not running" in part
    assert "not reporting (last 60 s ago)" in part


def test_pause_resume_and_delay_change_the_controls_and_the_page(operator):
    report_status()
    response = post_control(operator, {"action": "pause", "direction": FORWARD})
    assert response.redirect_chain == [("/console/#replication", 302)]
    controls = replication_controls_get()
    assert controls[FORWARD].paused and not controls[BACKWARD].paused
    html = response.content.decode()
    assert f"Replication {FORWARD}: paused." in html
    assert f'data-testid="paused-{FORWARD}"' in html
    assert f'data-testid="resume-{FORWARD}"' in html
    assert f'data-testid="pause-{BACKWARD}"' in html

    html = post_control(operator, {"action": "delay", "direction": BACKWARD, "seconds": "2.5"})
    assert replication_controls_get()[BACKWARD].delay_seconds == 2.5
    html = html.content.decode()
    assert "delayed 2.5 s" in html

    html = post_control(operator, {"action": "resume", "direction": FORWARD}).content.decode()
    assert not replication_controls_get()[FORWARD].paused
    assert f'data-testid="pause-{FORWARD}"' in html

    events = [e for e in routing_history_list(region=PRIMARY) if e.get("kind")]
    assert [(e["action"], e["direction"], e["actor"]) for e in events] == [
        ("resume", FORWARD, "olga"),
        ("delay", BACKWARD, "olga"),
        ("pause", FORWARD, "olga"),
    ]
    assert events[1]["detail"] == f"replication {BACKWARD}: delay 2.5 s"
    assert f"replication {FORWARD}: pause" in html
    assert routing_history_list(region=SECONDARY)[0]["event_id"] == events[0]["event_id"]


def test_delay_zero_removes_it(operator):
    post_control(operator, {"action": "delay", "direction": FORWARD, "seconds": "4"})
    html = post_control(operator, {"action": "delay", "direction": FORWARD, "seconds": "0"})
    assert replication_controls_get()[FORWARD].delay_seconds == 0
    assert f"Replication {FORWARD}: delay removed." in html.content.decode()


@pytest.mark.parametrize("seconds", ["-1", "abc", "3601", "", "nan", "inf"])
def test_bad_delay_is_a_400_with_a_message(operator, seconds):
    response = post_control(
        operator, {"action": "delay", "direction": FORWARD, "seconds": seconds}, follow=False
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "must be a number of seconds from 0 to 3600" in html
    assert 'data-testid="replication"' in html
    assert replication_controls_get()[FORWARD].delay_seconds == 0
    assert not [e for e in routing_history_list(region=PRIMARY) if e.get("kind")]


def test_unknown_direction_or_action_is_a_400(operator):
    response = post_control(operator, {"action": "pause", "direction": "nowhere"}, follow=False)
    assert response.status_code == 400
    assert "unknown direction" in response.content.decode()
    response = post_control(operator, {"action": "stop", "direction": FORWARD}, follow=False)
    assert response.status_code == 400
    assert "Choose pause, resume or delay" in response.content.decode()
    assert not any(c.paused for c in replication_controls_get().values())


def test_controls_are_for_operators_only(aws, tokens, state_dir):
    member = signed_in("mike")
    response = post_control(member, {"action": "pause", "direction": FORWARD}, follow=False)
    assert response.status_code == 403
    anonymous = Client()
    assert anonymous.post("/console/replication/", {"action": "pause"}).status_code == 403
    assert anonymous.get("/console/replication/").status_code in (403, 405)
    assert not any(c.paused for c in replication_controls_get().values())


def test_controls_need_the_csrf_token(operator):
    response = operator.post("/console/replication/", {"action": "pause", "direction": FORWARD})
    assert response.status_code == 403
    assert not replication_controls_get()[FORWARD].paused


def test_times_render_as_day_month_year_utc(operator):
    move(RoutingState.FENCED, 1)
    html = operator.get("/console/").content.decode()
    changed = re.search(r'data-testid="console-changed">(.*?) by', html).group(1)
    assert CONSOLE_TIME.fullmatch(changed), changed
    audit = html[html.index('data-testid="audit-log"') :]
    first_when = re.search(r'<td class="nowrap">(.*?)</td>', audit).group(1)
    assert CONSOLE_TIME.fullmatch(first_when), first_when


def test_console_drives_the_running_replicator(operator, fresh_streams, aws, state_dir, log_dir):
    replicator = Replicator(log_dir, state_dir, {region: e.url for region, e in aws.items()})
    replicator.start()
    try:
        part = section(operator.get("/console/").content.decode())
        assert "Replicator running" in part
        assert f'data-testid="dataset-{FORWARD}-photos"' in part
        post_control(operator, {"action": "pause", "direction": FORWARD})
        post_control(operator, {"action": "delay", "direction": BACKWARD, "seconds": "1.5"})

        def reported() -> dict:
            return replication_overview_get()["directions"]

        poll(
            lambda: (
                reported()[FORWARD].get("paused")
                and reported()[BACKWARD].get("delay_seconds") == 1.5
            ),
            what="the replicator reports the controls set in the console",
            timeout=REPLICATED,
        )
        assert not reported()[BACKWARD]["paused"]
    finally:
        replicator.stop()


def test_console_time_filter():
    assert console_time("2026-11-26T17:22:48.123456+00:00") == "26 Nov 2026, 17:22:48 UTC"
    assert console_time("2026-11-05T19:22:48+02:00") == "5 Nov 2026, 17:22:48 UTC"
    assert console_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2 Jan 2026, 03:04:05 UTC"
    assert console_time(0) == "1 Jan 1970, 00:00:00 UTC"
    assert console_time(None) == "–"
    assert console_time("soon") == "soon"


class _SlowReady(BaseHTTPRequestHandler):
    """Answers ready after a while, and records how many probes overlapped."""

    lock = threading.Lock()
    in_flight = 0
    most_in_flight = 0

    def do_GET(self):
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.most_in_flight = max(cls.most_in_flight, cls.in_flight)
        time.sleep(0.5)
        with cls.lock:
            cls.in_flight -= 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ready"}')

    def log_message(self, *args):
        pass


def test_both_regions_are_probed_at_once(aws, settings, state_dir):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowReady)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        settings.MRA_REGION_URLS = {PRIMARY: url, SECONDARY: url}
        _SlowReady.most_in_flight = 0
        overview = routing_overview(with_actions=False, with_replication=True)
    finally:
        server.shutdown()
        server.server_close()
    assert all(h.ready for h in overview.health.values())
    assert overview.replication["mode"] == "emulated"
    assert _SlowReady.most_in_flight == 2


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(390, 844), (1280, 800)], ids=["phone", "laptop"])
def test_console_fits_and_pauses_in_a_browser(
    aws, make_user, sites, sites_state_dir, settings, browser, width, height
):
    """The status is written where the sites read it, and the controls are cleared again
    afterwards."""
    from tests.routing.test_browser import sign_in

    settings.MRA_REPLICATION_STATE_DIR = sites_state_dir
    make_user("olga", "Correct-horse-1", operator=True)
    move(RoutingState.FENCED, 1)
    report_status(failing_media=True)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        sign_in(page, sites[PRIMARY].url, "/console/", "olga")
        page.get_by_test_id(f"pause-{FORWARD}").click()
        page.wait_for_load_state()
        assert f"Replication {FORWARD}: paused." in page.locator(".messages").inner_text()
        assert page.get_by_test_id(f"resume-{FORWARD}").is_visible()
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
        # One evaluation measures both: the console's script replaces its sections when a
        # poll brings new HTML, and a box measured across two calls can straddle a swap.
        changed_right, card_right = page.evaluate(
            """() => ["console-changed", "console-state"].map(
                (id) => document.querySelector(`[data-testid="${id}"]`)
                    .getBoundingClientRect().right)"""
        )
        assert changed_right <= card_right, "the time of the change spills out of its card"
        page.screenshot(path=str(SCREENSHOTS / f"console-{width}.png"), full_page=True)
        page.get_by_test_id("replication").screenshot(
            path=str(SCREENSHOTS / f"console-replication-{width}.png")
        )
    finally:
        context.close()
        for direction in directions_all():
            (state_dir_default() / status_file(direction)).unlink(missing_ok=True)
        (state_dir_default() / "control.json").unlink(missing_ok=True)
