"""Uploading several photos and commenting in Chromium, at laptop and phone width:
nothing chosen or typed is lost, and every error is tied to its field."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from photos import selectors, services
from tests.conftest import PRIMARY
from tests.photos.conftest import image_bytes, upload_file

pytestmark = pytest.mark.browser

PASSWORD = "Correct-horse-1"
WIDTHS = {"laptop": (1366, 800), "phone": (390, 844)}


def artifacts_dir() -> Path:
    default = Path(__file__).resolve().parents[2] / "test-artifacts"
    path = Path(os.environ.get("MRA_TEST_ARTIFACTS") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def described_by(locator) -> list[str]:
    return (locator.get_attribute("aria-describedby") or "").split()


def test_several_photos_upload_with_progress_and_nothing_chosen_or_typed_is_lost(
    aws, make_user, sites, page, tmp_path
):
    make_user("alice", PASSWORD)
    photo = services.photo_create(
        owner="bob", owner_id="id-bob", title="Quay", upload=upload_file(image_bytes())
    )
    site = sites[PRIMARY].url
    (tmp_path / "harbour.png").write_bytes(image_bytes("PNG", size=(640, 360)))
    (tmp_path / "dunes at dusk.jpg").write_bytes(image_bytes("JPEG", size=(300, 400)))
    with open(tmp_path / "huge.png", "wb") as huge:  # sparse: nothing is written
        huge.truncate(settings.MRA_PHOTO_MAX_BYTES + 1)
    (tmp_path / "notes.jpg").write_bytes(b"these are notes, not a photo")
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)

    # Server-rendered errors: tied to their field, and focus on the first one.
    page.goto(f"{site}/accounts/login/?next=/upload/")
    page.get_by_role("button", name="Sign in").click()
    username = page.get_by_label("Username")
    assert username.get_attribute("aria-invalid") == "true"
    error_id = next(i for i in described_by(username) if i.endswith("_error"))
    assert page.locator(f"#{error_id}").inner_text().strip()
    assert focused_id(page) == "id_username"
    username.fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/upload/")

    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{site}/upload/")
        posts.clear()
        # Nothing chosen: said before anything is sent.
        page.get_by_role("button", name="Upload", exact=True).click()
        assert "Choose a photo" in page.locator("#id_image_client_error").inner_text()
        assert page.evaluate("document.activeElement.hasAttribute('data-drop-zone')")

        page.get_by_label("Photos").set_input_files(
            [tmp_path / "harbour.png", tmp_path / "dunes at dusk.jpg", tmp_path / "huge.png"]
        )
        rows = page.locator(".upload-row")
        assert rows.count() == 3
        assert page.get_by_label("Title for dunes at dusk.jpg").input_value() == "dunes at dusk"
        page.get_by_label("Title for harbour.png").fill(f"Harbour ({width_name})")
        huge = rows.nth(2)
        assert huge.get_attribute("data-state") == "invalid"
        assert "larger than" in huge.locator(".upload-result").inner_text()

        page.get_by_role("button", name="Upload", exact=True).click()
        page.locator(".upload-row[data-state='stored']").nth(1).wait_for()
        assert len(posts) == 2, "the oversized file was never sent"
        for index in (0, 1):
            progress = rows.nth(index).locator("progress")
            assert progress.evaluate("p => p.value === p.max && p.max > 1000")
        link = page.get_by_role("link", name=f"View “Harbour ({width_name})”")
        assert link.get_attribute("href").startswith("/photos/")
        assert huge.get_attribute("data-state") == "invalid"
        # The last row is marked stored a moment before the sending loop hands
        # the button back.
        upload = page.get_by_role("button", name="Upload", exact=True)
        page.wait_for_function("button => !button.disabled", arg=upload.element_handle())
        assert upload.is_enabled()
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        # The server refuses a file: its row stays, with the server's words, for a retry.
        page.get_by_label("Photos").set_input_files(tmp_path / "notes.jpg")
        page.get_by_role("button", name="Upload", exact=True).click()
        refused = rows.nth(3)
        page.locator(".upload-row:nth-child(4)[data-state='refused']").wait_for()
        assert "not a JPEG, PNG or WebP" in refused.locator(".upload-result").inner_text()
        assert refused.get_by_role("button", name="Retry").is_visible()
        assert len(posts) == 3, "stored photos are not sent again"
        page.screenshot(path=str(artifacts_dir() / f"upload-rows-{width_name}.png"), full_page=True)

        # A pasted 2000-character comment is kept whole and explained, never cut.
        page.goto(f"{site}/photos/{photo.id}/")
        comment = page.get_by_label("Add a comment")
        comment.fill("é" * 2000)
        counter = page.locator("#id_message_counter")
        assert counter.inner_text() == "2000 / 1000"
        assert "over" in counter.get_attribute("class")
        assert comment.evaluate("t => t.value.length") == 2000
        page.get_by_role("button", name="Comment").click()
        assert page.url == f"{site}/photos/{photo.id}/"
        assert comment.get_attribute("aria-invalid") == "true"
        limit_error = page.locator("#id_message_limit_error")
        assert "id_message_limit_error" in described_by(comment)
        assert "Shorten it by 1000" in limit_error.inner_text()
        assert focused_id(page) == "id_message"
        page.screenshot(path=str(artifacts_dir() / f"comment-over-limit-{width_name}.png"))

    stored = selectors.photo_list(limit=10).results
    assert sorted(p.title for p in stored) == [
        "Harbour (laptop)",
        "Harbour (phone)",
        "Quay",
        "dunes at dusk",
        "dunes at dusk",
    ]
    assert selectors.comment_list(photo_id=photo.id).results == []
