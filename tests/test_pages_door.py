"""Through the front door a page stays where it was opened: an operator fails over, and
what the user typed and picked is sent from the same page to the new writable region.

Needs the `door` fixture (tests/conftest.py): the local front door in front of the
`sites` fixture's two sites, with `.url`.
"""

import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from mra_site.aws.clients import dynamodb_table
from photos import selectors, services
from photos.records import photo_item
from routing.services import routing_failover, routing_fence
from tests.conftest import SECONDARY
from tests.photos.conftest import image_bytes, upload_file

pytestmark = pytest.mark.browser

PASSWORD = "Correct-horse-1"
SCREENSHOTS = Path(os.environ.get("MRA_SCREENSHOT_DIR", tempfile.gettempdir()))
COMMENT = "Typed before the failover, sent after it."
TITLE = "Picked before the failover"
# Writes open again through the door: the banner goes quiet and the controls come back.
REOPENED = """() => !document.querySelector('form [data-write-control]').disabled
  && document.getElementById('routing-banner').classList.contains('quiet')"""


def sign_in(page, site: str, path: str) -> None:
    page.goto(f"{site}/accounts/login/?next={path}")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}{path}")


def test_a_failover_leaves_the_open_pages_and_what_was_typed_in_place(
    aws, make_user, sites, door, browser, tmp_path
):
    make_user("alice", PASSWORD)
    photo = services.photo_create(
        owner="bob", owner_id="id-bob", title="Pier", upload=upload_file(image_bytes())
    )
    # The photo as replication would have carried it to the secondary.
    dynamodb_table(SECONDARY, f"{settings.MRA_TABLE_PREFIX}photos").put_item(Item=photo_item(photo))
    photo_file = tmp_path / "pier.png"
    photo_file.write_bytes(image_bytes("PNG", size=(64, 48)))
    detail_url, upload_url = f"{door.url}/photos/{photo.id}/", f"{door.url}/upload/"

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15000)
    try:
        detail = context.new_page()
        sign_in(detail, door.url, f"/photos/{photo.id}/")
        detail.get_by_label("Add a comment").fill(COMMENT)
        upload = context.new_page()
        upload.goto(upload_url)
        upload.get_by_label("Photos").set_input_files(str(photo_file))
        upload.get_by_label("Title for pier.png").fill(TITLE)
        for page in (detail, upload):
            page.evaluate("window.__sameDocument = true")

        # Writing pauses on both pages while fenced, with nothing the user entered touched.
        routing_fence(actor="test", reason="test")
        for page in (detail, upload):
            page.wait_for_function(
                "() => document.querySelector('form [data-write-control]').disabled",
                timeout=20000,
            )
        upload.screenshot(path=str(SCREENSHOTS / "door-upload-fenced.png"))
        routing_failover(actor="test", reason="test", force=True)

        for page in (detail, upload):
            page.wait_for_function(REOPENED, timeout=20000)
            assert page.evaluate("window.__sameDocument") is True  # never navigated
            assert page.url in (detail_url, upload_url)
            assert page.locator("[data-write-reason]").count() == 0
        detail.screenshot(path=str(SCREENSHOTS / "door-detail-after-failover.png"))
        upload.screenshot(path=str(SCREENSHOTS / "door-upload-after-failover.png"))
        assert detail.get_by_label("Add a comment").input_value() == COMMENT
        assert upload.get_by_label("Title for pier.png").input_value() == TITLE

        comment = detail.get_by_role("button", name="Comment")
        assert comment.is_enabled()
        with detail.expect_response(lambda r: r.request.method == "POST") as sent:
            comment.click()
        assert sent.value.status == 302
        assert sent.value.headers.get("x-mra-region") == SECONDARY
        detail.wait_for_url(f"{detail_url}#comments")
        assert detail.locator(".comment-text", has_text=COMMENT).is_visible()
        assert detail.get_by_test_id("header-user").inner_text().startswith("alice")

        with upload.expect_response(lambda r: r.request.method == "POST") as sent:
            upload.get_by_role("button", name="Upload", exact=True).click()
        assert sent.value.status == 201
        assert sent.value.headers.get("x-mra-region") == SECONDARY
        upload.get_by_role("link", name=f"View “{TITLE}”").click()
        upload.wait_for_url(f"{door.url}/photos/*/")
        assert upload.get_by_role("heading", name=TITLE).is_visible()
        assert upload.get_by_test_id("header-user").inner_text().startswith("alice")
        upload.screenshot(path=str(SCREENSHOTS / "door-uploaded-after-failover.png"))
    finally:
        context.close()

    comments = selectors.comment_list(photo_id=photo.id, region=SECONDARY).results
    assert [c.message for c in comments] == [COMMENT]
