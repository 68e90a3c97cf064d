"""Every photo fits: uniform gallery cells, the whole photo at its own aspect ratio
on its page, the display size rather than the original on a phone, the lightbox,
arrow keys to the neighbours and relative times; at laptop and phone widths."""

import os
from pathlib import Path

import pytest

from photos import services
from tests.conftest import PRIMARY
from tests.photos.conftest import image_bytes, upload_file

pytestmark = pytest.mark.browser

WIDTHS = {"laptop": (1366, 800), "phone": (390, 844)}


def screenshot(page, name: str) -> None:
    root = Path(__file__).resolve().parents[2]
    folder = Path(os.environ.get("MRA_TEST_ARTIFACTS") or root / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def _loaded(image) -> None:
    image.evaluate(
        "img => img.complete && img.naturalWidth ? 0 : new Promise((ok, fail) => {"
        " img.addEventListener('load', ok); img.addEventListener('error', fail); })"
    )


def test_gallery_cells_photo_page_lightbox_and_neighbours(aws, sites, browser):
    # Oldest first: the gallery shows them newest first, the portrait leading.
    photos = [
        services.photo_create(
            owner="alice",
            owner_id="id-alice",
            title=title,
            upload=upload_file(image_bytes(size=size, color=color)),
        )
        for title, size, color in (
            ("Wide", (600, 400), (40, 120, 200)),
            ("Square", (500, 500), (200, 160, 40)),
            ("Tall", (1080, 1920), (60, 160, 90)),
        )
    ]
    site = sites[PRIMARY].url
    context = browser.new_context()
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        for name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            _check_width(page, site, name, width, height, photos)
    finally:
        context.close()


def _check_width(page, site, name, width, height, photos) -> None:
    wide, square, tall = photos
    page.goto(f"{site}/")
    cards = page.locator(".photo-card")
    cards.nth(2).wait_for()
    for index in range(3):
        _loaded(cards.nth(index).locator("img"))
    boxes = [cards.nth(i).bounding_box() for i in range(3)]
    thumbs = [cards.nth(i).locator(".photo-thumb").bounding_box() for i in range(3)]
    rows: dict[int, list[float]] = {}
    for box in boxes:
        rows.setdefault(round(box["y"]), []).append(box["height"])
    for heights in rows.values():
        assert max(heights) - min(heights) < 1, (name, boxes)
    # The same cell for portrait, square and landscape: cropped, never stretched.
    assert {(round(t["width"]), round(t["height"])) for t in thumbs} == {
        (round(thumbs[0]["width"]), round(thumbs[0]["height"]))
    }, (name, thumbs)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"photo-gallery-{name}")

    page.goto(f"{site}/photos/{tall.id}/")
    image = page.get_by_test_id("photo-image")
    _loaded(image)
    box = image.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(1080 / 1920, rel=0.02), box
    assert box["height"] <= 0.8 * height + 1
    source = image.evaluate("img => img.currentSrc")
    assert "/display.webp" in source or "/thumb.webp" in source, source
    assert "/original." in page.get_by_test_id("view-original").get_attribute("href")
    created = page.locator(".photo-side time[data-relative]")
    assert created.inner_text() == "just now"
    assert "UTC" in created.get_attribute("title")
    screenshot(page, f"photo-page-{name}")

    page.locator("[data-lightbox-open]").click()
    dialog = page.locator("dialog[data-lightbox]")
    assert dialog.evaluate("d => d.open")
    _loaded(dialog.locator("img"))
    large = dialog.locator("img").bounding_box()
    assert large["width"] / large["height"] == pytest.approx(900 / 1600, rel=0.02), large
    screenshot(page, f"photo-lightbox-{name}")
    page.keyboard.press("Escape")
    page.wait_for_function("!document.querySelector('dialog[data-lightbox]').open")
    assert page.evaluate("document.activeElement.matches('[data-lightbox-open]')")

    # Newest first: right goes to the older photo, left back to the newer.
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"{site}/photos/{square.id}/")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"{site}/photos/{tall.id}/")
    # The newest photo: a step further says so and stays.
    page.keyboard.press("ArrowLeft")
    page.get_by_text("This is the newest photo.").wait_for()
    assert page.url == f"{site}/photos/{tall.id}/"
