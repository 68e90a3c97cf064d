"""A person in Chromium: sign in, upload, find the photo in the gallery, comment."""

import pytest

from tests.conftest import PRIMARY, SECONDARY
from tests.photos.conftest import image_bytes

pytestmark = pytest.mark.browser


def test_sign_in_upload_see_it_in_the_gallery_and_comment(aws, make_user, sites, page, tmp_path):
    make_user("alice", "Correct-horse-1")
    site = sites[PRIMARY].url
    photo_file = tmp_path / "holiday.jpg"
    photo_file.write_bytes(image_bytes("PNG", size=(640, 360), color=(30, 120, 200)))

    page.goto(f"{site}/upload/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("Correct-horse-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/upload/")

    page.get_by_label("Photos").set_input_files(str(photo_file))
    page.get_by_label("Title for holiday.jpg").fill("Blue <b>hour</b>")
    preview = page.locator(".upload-thumb img")
    preview.wait_for(state="visible")
    assert preview.evaluate("img => img.naturalWidth") == 640
    page.get_by_role("button", name="Upload", exact=True).click()
    page.get_by_role("link", name="View “Blue <b>hour</b>”").click()
    page.wait_for_url(f"{site}/photos/*/")
    assert page.get_by_role("heading", name="Blue <b>hour</b>").is_visible()

    page.get_by_role("link", name="Gallery").click()
    card = page.locator(".photo-card", has_text="Blue <b>hour</b>")
    card.wait_for()
    thumbnail = card.locator("img")
    thumbnail.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
    # The 480 px thumbnail, drawn at the card's width (srcset/sizes): not the original.
    assert thumbnail.evaluate("img => img.currentSrc").split("?")[0].endswith("/thumb.webp")
    assert "pending" not in (thumbnail.get_attribute("class") or "")

    card.get_by_role("link", name="Blue <b>hour</b>").click()
    page.get_by_label("Add a comment").fill("What a colour!")
    page.get_by_role("button", name="Comment").click()
    page.wait_for_url("**/#comments")
    assert page.locator(".comment-text", has_text="What a colour!").is_visible()
    assert page.get_by_role("heading", name="1 comment").is_visible()

    phone = page.context.browser.new_context(viewport={"width": 390, "height": 844})
    try:
        small = phone.new_page()
        small.goto(f"{site}/")
        small.locator(".photo-card").first.wait_for()
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()


def test_without_javascript_a_refused_comment_continues_in_the_writable_region(
    aws, make_user, sites, browser
):
    from django.conf import settings

    from mra_site.aws.clients import dynamodb_table
    from photos import services
    from photos.records import photo_item
    from tests.photos.conftest import upload_file

    make_user("alice", "Correct-horse-1")
    photo = services.photo_create(
        owner="bob", owner_id="id-bob", title="Quay", upload=upload_file(image_bytes())
    )
    dynamodb_table(SECONDARY, f"{settings.MRA_TABLE_PREFIX}photos").put_item(Item=photo_item(photo))
    primary, secondary = sites[PRIMARY].url, sites[SECONDARY].url
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        path = f"/photos/{photo.id}/"
        page.goto(f"{secondary}/accounts/login/?next={path}")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("Correct-horse-1")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{secondary}{path}")
        typed = "Written on the read-only region"
        page.get_by_label("Add a comment").fill(typed)
        page.get_by_role("button", name="Comment").click()
        refused = page.get_by_test_id("write-refused")
        assert "read-only" in refused.inner_text()

        with page.expect_navigation() as moved:
            refused.get_by_role("link", name=f"Continue on {PRIMARY}").click()
        assert moved.value.status == 200
        assert page.url.startswith(f"{primary}{path}?comment=")
        assert page.get_by_label("Add a comment").input_value() == typed
        page.get_by_role("button", name="Comment").click()
        page.wait_for_url(f"{primary}{path}#comments")
        assert page.locator(
            ".comment-text", has_text="Written on the read-only region"
        ).is_visible()
    finally:
        context.close()
