"""Pages follow the state: an operator acts in the console, a user's open page reacts."""

import pytest

from tests.conftest import PRIMARY, SECONDARY
from tests.photos.conftest import image_bytes

pytestmark = pytest.mark.browser

PASSWORD = "Correct-horse-1"
PAUSED = "Uploads and comments are paused for a moment."


def sign_in(page, site: str, path: str, username: str) -> None:
    page.goto(f"{site}/accounts/login/?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}{path}")


def console_action(page, target: str, button: str, reason: str, confirm: str = "") -> None:
    form = page.get_by_test_id(f"action-{target}")
    if confirm:
        form.locator("summary").click()  # forcing is folded away behind waiting
        form.get_by_label("Type").fill(confirm)
    form.get_by_label("Reason").fill(reason)
    form.get_by_role("button", name=button).click()
    page.wait_for_load_state()


@pytest.fixture
def people(aws, make_user, sites, browser, page):
    make_user("alice", PASSWORD)
    make_user("olga", PASSWORD, operator=True)
    user = browser.new_context(viewport={"width": 1280, "height": 800})
    user.set_default_timeout(15000)
    yield page, user.new_page()
    user.close()


def banner_is_quiet(page) -> bool:
    """Writes are open: the banner shows nothing."""
    return page.locator("[data-routing-message]").text_content() == "" and page.get_by_test_id(
        "routing-banner"
    ).evaluate("banner => banner.classList.contains('quiet') && banner.offsetHeight === 0")


WATCH_LIVE_REGION = """() => {
  window.__liveRewrites = 0;
  window.__live = new MutationObserver((changes) => { window.__liveRewrites += changes.length; });
  window.__live.observe(
    document.getElementById("routing-banner"),
    { childList: true, characterData: true, subtree: true },
  );
}"""
LIVE_REWRITES = "window.__liveRewrites + window.__live.takeRecords().length"


def test_fence_from_the_console_pauses_and_reopens_an_open_upload_page(people, sites):
    operator, user = people
    site = sites[PRIMARY].url
    sign_in(user, site, "/upload/", "alice")
    upload = user.get_by_role("button", name="Upload")
    assert upload.is_enabled()
    assert banner_is_quiet(user)
    user.evaluate("window.__sameDocument = true")
    # A poll that finds the same state leaves the live region alone (no repeated announcement).
    user.evaluate(WATCH_LIVE_REGION)
    user.evaluate("window.mra.refreshState()")
    user.evaluate("window.mra.refreshState()")
    assert user.evaluate(LIVE_REWRITES) == 0

    sign_in(operator, site, "/console/", "olga")
    console_action(operator, "fenced", "Fence us-east-1", "browser test")
    assert "State is now fenced (version 2)." in operator.locator(".messages").inner_text()

    user.wait_for_function(
        "() => document.querySelector('[data-write-control]').disabled", timeout=8000
    )
    assert PAUSED in user.locator("[data-write-reason]").inner_text()
    assert PAUSED in user.get_by_test_id("routing-banner").inner_text()

    console_action(operator, "active", "Unfence: reopen us-east-1", "done")
    user.wait_for_function(
        "() => !document.querySelector('[data-write-control]').disabled", timeout=8000
    )
    assert user.locator("[data-write-reason]").count() == 0
    assert banner_is_quiet(user)
    assert user.evaluate("window.__sameDocument") is True  # no reload


def test_forced_failover_moves_the_user_to_the_secondary(people, sites):
    operator, user = people
    primary, secondary = sites[PRIMARY].url, sites[SECONDARY].url
    sign_in(user, primary, "/upload/", "alice")
    sign_in(operator, primary, "/console/", "olga")
    console_action(operator, "fenced", "Fence us-east-1", "drill")
    console_action(
        operator, "failover", "Fail over to us-west-2 (forced)", "drill", confirm=SECONDARY
    )
    assert "State is now failover (version 3)." in operator.locator(".messages").inner_text()
    user.wait_for_url(lambda url: url.startswith(secondary), timeout=8000)
    assert user.locator(".region-pill").inner_text().strip() == SECONDARY


def test_pages_ask_the_other_region_when_theirs_does_not_answer(people, sites):
    _, user = people
    primary, secondary = sites[PRIMARY].url, sites[SECONDARY].url
    sign_in(user, primary, "/upload/", "alice")
    user.route(f"{primary}/api/state", lambda route: route.abort())
    banner = user.get_by_test_id("routing-banner")
    user.wait_for_function(
        "() => document.getElementById('routing-banner').innerText.includes('with us-west-2')",
        timeout=8000,
    )
    assert "us-east-1 is not answering" in banner.inner_text()
    assert user.get_by_role("button", name="Upload").is_disabled()

    user.route(f"{secondary}/api/state", lambda route: route.abort())
    user.wait_for_function(
        "() => document.getElementById('routing-banner').innerText.includes('Connection lost')",
        timeout=8000,
    )
    user.unroute(f"{primary}/api/state")
    user.wait_for_function(
        "() => !document.querySelector('[data-write-control]').disabled", timeout=8000
    )
    assert banner_is_quiet(user)


UPLOAD_THROUGH_API_FETCH = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 32;
  canvas.height = 32;
  canvas.getContext("2d").fillRect(0, 0, 32, 32);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  const body = new FormData();
  body.append("title", "sent while fenced");
  body.append("image", blob, "square.png");
  const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
  window.__status = null;
  window.mra
    .apiFetch("/api/photos", { method: "POST", body, headers: { "X-CSRFToken": token } })
    .then((response) => { window.__status = response.status; });
}"""


def test_api_fetch_waits_out_a_fence_and_follows_421(aws, make_user, sites, page):
    from routing.states import RoutingState
    from tests.routing.helpers import move

    make_user("alice", PASSWORD)
    primary, secondary = sites[PRIMARY].url, sites[SECONDARY].url
    sign_in(page, primary, "/upload/", "alice")
    move(RoutingState.FENCED, 1)
    page.evaluate(UPLOAD_THROUGH_API_FETCH)
    page.wait_for_timeout(3000)
    assert page.evaluate("window.__status") is None  # still waiting out the 503s
    move(RoutingState.ACTIVE, 2)
    page.wait_for_function("() => window.__status !== null", timeout=10000)
    assert page.evaluate("window.__status") == 201

    # On the read-only region the same call is answered 421 and the page moves.
    sign_in(page, secondary, "/upload/", "alice")
    page.evaluate(UPLOAD_THROUGH_API_FETCH)
    page.wait_for_url(lambda url: url.startswith(primary), timeout=8000)
    assert page.locator(".region-pill").inner_text().strip() == PRIMARY


def test_a_page_on_the_read_only_region_links_to_the_writable_one_and_reopens_after_failover(
    aws, make_user, sites, page
):
    from routing.services import routing_failover

    make_user("alice", PASSWORD)
    primary, secondary = sites[PRIMARY].url, sites[SECONDARY].url
    sign_in(page, secondary, "/upload/", "alice")
    link = page.get_by_test_id("writable-link")
    assert link.is_visible()
    assert link.inner_text() == f"Continue on {PRIMARY}"
    assert link.get_attribute("href") == f"{primary}/upload/"
    assert page.get_by_role("button", name="Upload").is_disabled()
    page.get_by_label("Photos").set_input_files(
        files=[{"name": "kept.png", "mimeType": "image/png", "buffer": image_bytes("PNG")}]
    )
    page.get_by_label("Title for kept.png").fill("kept")
    page.evaluate("window.__sameDocument = true")

    routing_failover(actor="test", reason="test", force=True)
    page.wait_for_function(
        "() => !document.querySelector('form [data-write-control]').disabled", timeout=15000
    )
    assert banner_is_quiet(page)
    assert link.is_hidden()
    assert page.evaluate("window.__sameDocument") is True
    assert page.get_by_label("Title for kept.png").input_value() == "kept"
