"""Through the front door a user reads a photo site: no regions, no architecture,
one short pause message while fenced, announced once, in a compact header."""

import re

import pytest

from routing.services import routing_fence, routing_unfence

pytestmark = pytest.mark.browser

PAUSED = "Uploads and comments are paused for a moment."
REOPENED = "Uploads and comments are open again."
OPERATORS_REASON = "swapping the disks in rack 7"
REGION_NAME = re.compile(r"\b[a-z]{2}-[a-z]+-\d\b")
ARCHITECTURE_WORDS = re.compile(r"region|primary|secondary|replica|fenc|failover|routing", re.I)
PHONE, LAPTOP = (390, 844), (1366, 800)

# Every write into the banner's live region, in order.
WATCH_LIVE_REGION = """() => {
  const live = document.querySelector("[data-routing-announce]");
  window.__announced = [];
  new MutationObserver(() => window.__announced.push(live.textContent)).observe(
    live, { childList: true, characterData: true, subtree: true },
  );
}"""
# What the page shows outside its footer, as a person reads it.
VISIBLE_TEXT = """() => {
  const footer = document.querySelector("footer");
  footer.hidden = true;
  const text = document.body.innerText;
  footer.hidden = false;
  return text;
}"""
HEADER_HEIGHT = "() => document.querySelector('header').getBoundingClientRect().height"


def polls(page, count: int = 3) -> None:
    for _ in range(count):
        page.evaluate("window.mra.refreshState()")


def says_nothing_of_the_architecture(page) -> str:
    text = page.evaluate(VISIBLE_TEXT)
    assert not REGION_NAME.search(text), text
    assert not ARCHITECTURE_WORDS.search(text), text
    assert OPERATORS_REASON not in text
    return text


def test_a_fence_through_the_door_is_one_plain_line_announced_once(
    aws, sites, door, browser, artifacts_dir
):
    context = browser.new_context(viewport=dict(zip(("width", "height"), PHONE, strict=True)))
    context.set_default_timeout(20000)
    page = context.new_page()
    try:
        page.goto(f"{door.url}/")
        page.evaluate(WATCH_LIVE_REGION)
        # Writes open: nothing is said, the header alone.
        says_nothing_of_the_architecture(page)
        assert page.get_by_test_id("routing-banner").evaluate("banner => banner.offsetHeight") == 0
        polls(page)
        assert page.evaluate("window.__announced") == []

        routing_fence(actor="test", reason=OPERATORS_REASON)
        page.wait_for_function(
            "text => document.querySelector('[data-routing-message]').textContent === text",
            arg=PAUSED,
        )
        polls(page)
        assert page.evaluate("window.__announced") == [PAUSED]

        for name, (width, height) in (("phone", PHONE), ("laptop", LAPTOP)):
            page.set_viewport_size({"width": width, "height": height})
            assert PAUSED in says_nothing_of_the_architecture(page)
            message = page.locator("[data-routing-message]")
            line = message.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
            assert message.bounding_box()["height"] < 1.5 * line, f"{name}: banner wraps"
            page.screenshot(path=str(artifacts_dir / f"plain-fenced-{name}.png"))
            if name == "phone":
                assert page.evaluate(HEADER_HEIGHT) <= 0.12 * height

        routing_unfence(actor="test", reason="done")
        page.wait_for_function(
            "() => document.getElementById('routing-banner').classList.contains('quiet')"
        )
        polls(page)
        assert page.evaluate("window.__announced") == [PAUSED, REOPENED]
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        says_nothing_of_the_architecture(page)
        assert page.evaluate(HEADER_HEIGHT) <= 0.12 * PHONE[1]
        page.screenshot(path=str(artifacts_dir / "plain-open-phone.png"))
        # Region details stay in the footer.
        assert page.locator("footer .region-pill").is_visible()
    finally:
        context.close()
