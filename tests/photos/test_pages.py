"""The pages as a browser gets them: escaping, forms, refusals, placeholders."""

import re
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings

from mra_site.aws.clients import dynamodb_table
from photos import selectors, services
from photos.records import photo_item
from photos.services import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH
from tests.conftest import PRIMARY, SECONDARY
from tests.photos.conftest import csrf_token, image_bytes, upload_file
from tests.photos.test_uploads import noise_png, set_state

HOSTILE_TITLE = "<script>alert('title')</script>"
HOSTILE_COMMENT = '<img src=x onerror="alert(1)">'


def test_hostile_title_and_comment_are_shown_as_text_everywhere(aws, page_client):
    photo = services.photo_create(
        owner="alice", owner_id="id-alice", title=HOSTILE_TITLE, upload=upload_file(image_bytes())
    )
    services.comment_create(
        photo_id=photo.id, author="bob", author_id="id-bob", message=HOSTILE_COMMENT
    )
    browser = page_client("alice")
    for path in ("/", "/me/", f"/photos/{photo.id}/"):
        html = browser.get(path).content.decode()
        assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in html, path
        assert HOSTILE_TITLE not in html, path
        assert HOSTILE_COMMENT not in html, path
    detail = browser.get(f"/photos/{photo.id}/").content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in detail
    # The owner sees the comment form and the delete control, both marked as writes.
    assert detail.count("data-write-control") == 2
    assert "Yes, delete this photo" in detail


def test_upload_comment_and_delete_through_the_pages(aws, page_client, settings):
    browser = page_client("alice")
    token = csrf_token(browser, "/upload/")
    form = browser.get("/upload/").content.decode()
    assert 'enctype="multipart/form-data"' in form and "data-write-control" in form

    refused = browser.post(
        "/upload/",
        {
            "csrfmiddlewaretoken": token,
            "title": "Sneaky",
            "image": upload_file(b"<svg><script>alert(1)</script></svg>", name="cat.jpg"),
        },
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "not a JPEG, PNG or WebP image" in html and 'value="Sneaky"' in html

    settings.MRA_PHOTO_MAX_BYTES = 40_000
    too_big = browser.post(
        "/upload/",
        {"csrfmiddlewaretoken": token, "title": "Big", "image": upload_file(noise_png(200))},
    )
    assert too_big.status_code == 400 and "larger than" in too_big.content.decode()
    no_csrf = browser.post("/upload/", {"title": "x", "image": upload_file(image_bytes())})
    assert no_csrf.status_code == 403

    created = browser.post(
        "/upload/",
        {"csrfmiddlewaretoken": token, "title": "Sunset", "image": upload_file(image_bytes("PNG"))},
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    detail_path = created["Location"]
    detail = browser.get(detail_path).content.decode()
    assert "Sunset" in detail and "/original.png?" in detail

    commented = browser.post(
        detail_path + "comments/", {"csrfmiddlewaretoken": token, "message": "  First!  "}
    )
    assert commented.status_code == 302
    detail = browser.get(detail_path).content.decode()
    assert "First!" in detail and "1 comment<" in detail
    empty = browser.post(detail_path + "comments/", {"csrfmiddlewaretoken": token, "message": " "})
    assert empty.status_code == 400 and "Write a comment" in empty.content.decode()

    set_state(PRIMARY, "fenced")
    from routing.selectors import clear_state_cache

    clear_state_cache()
    paused = browser.post(
        detail_path + "comments/", {"csrfmiddlewaretoken": token, "message": "hi"}
    )
    assert paused.status_code == 503
    assert "Uploads and comments are paused for a moment." in paused.content.decode()
    set_state(PRIMARY, "active")
    clear_state_cache()

    deleted = browser.post(detail_path + "delete/", {"csrfmiddlewaretoken": token})
    assert deleted.status_code == 302 and deleted["Location"] == "/me/"
    assert browser.get(detail_path).status_code == 404
    assert "not uploaded any photos yet" in browser.get("/me/").content.decode()


def test_signed_out_visitors_get_the_explanation_and_are_sent_to_sign_in(aws, settings):
    from django.test import Client

    visitor = Client()
    gallery = visitor.get("/").content.decode()
    assert "Share your photos, see what others are sharing." in gallery
    assert "No photos yet" in gallery
    for path in ("/upload/", "/me/"):
        response = visitor.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")

    # A region whose DynamoDB does not answer says so instead of failing with a 500.
    settings.MRA_AWS_ENDPOINTS = {**settings.MRA_AWS_ENDPOINTS, PRIMARY: "http://127.0.0.1:9"}
    down = visitor.get("/")
    assert down.status_code == 503 and "did not answer" in down.content.decode()
    assert int(down["Retry-After"]) > 0


def test_a_comment_over_the_limit_is_refused_by_the_api_and_the_page(aws, api_client, page_client):
    photo = services.photo_create(
        owner="alice", owner_id="id-alice", title="Long", upload=upload_file(image_bytes())
    )
    too_long = "x" * (COMMENT_MAX_LENGTH + 1)
    api = api_client("bob").post(
        f"/api/photos/{photo.id}/comments", {"message": too_long}, content_type="application/json"
    )
    assert api.status_code == 400
    assert api.json()["error"] == "invalid_message"
    assert str(COMMENT_MAX_LENGTH) in api.json()["detail"]

    browser = page_client("carol")
    detail_path = f"/photos/{photo.id}/"
    token = csrf_token(browser, detail_path)
    page = browser.post(
        detail_path + "comments/", {"csrfmiddlewaretoken": token, "message": too_long}
    )
    assert page.status_code == 400
    html = page.content.decode()
    assert f"at most {COMMENT_MAX_LENGTH} characters" in html
    assert 'role="alert"' in html and too_long in html  # kept in the form, to be shortened

    assert selectors.comment_list(photo_id=photo.id).results == []
    assert selectors.photo_get(photo_id=photo.id).comment_count == 0


def test_metadata_that_arrived_before_its_media_shows_a_placeholder(aws, page_client, region):
    photo = services.photo_create(
        owner="alice", owner_id="id-alice", title="In transit", upload=upload_file(image_bytes())
    )
    # On AWS the table and the bucket replicate separately: copy only the metadata.
    dynamodb_table(SECONDARY, f"{settings.MRA_TABLE_PREFIX}photos").put_item(Item=photo_item(photo))
    region(SECONDARY)
    browser = page_client("bob", region=SECONDARY)
    detail = browser.get(f"/photos/{photo.id}/").content.decode()
    assert 'data-testid="media-pending"' in detail
    assert "photo-pending.svg" in detail and "original.jpg" not in detail
    region(PRIMARY)
    assert 'data-testid="media-pending"' not in browser.get(f"/photos/{photo.id}/").content.decode()


def _photo_in_both_regions(title: str = "Harbour"):
    photo = services.photo_create(
        owner="alice", owner_id="id-alice", title=title, upload=upload_file(image_bytes())
    )
    dynamodb_table(SECONDARY, f"{settings.MRA_TABLE_PREFIX}photos").put_item(Item=photo_item(photo))
    return photo


def test_a_comment_refused_on_the_read_only_region_continues_with_its_text(
    aws, page_client, region
):
    photo = _photo_in_both_regions()
    region(SECONDARY)
    browser = page_client("bob", region=SECONDARY)
    detail_path = f"/photos/{photo.id}/"
    token = csrf_token(browser, detail_path)
    typed = "Lovely light & <b>colours</b>\nsecond line"
    refused = browser.post(
        detail_path + "comments/", {"csrfmiddlewaretoken": token, "message": typed}
    )
    assert refused.status_code == 421
    html = refused.content.decode()
    link = re.search(r'<a href="([^"]+)" data-testid="continue-link">', html)
    assert link, html
    url = urlsplit(unescape(link[1]))
    # A GET to the photo's page in the writable region, never to the POST-only address.
    assert f"{url.scheme}://{url.netloc}" == settings.MRA_REGION_URLS[PRIMARY]
    assert (url.path, url.fragment) == (detail_path, "comments")
    assert parse_qs(url.query) == {"comment": [typed]}
    assert "your comment goes with you" in html
    # The banner's link leads there too, not to the address of the refused form.
    banner = re.search(r'<a href="([^"]+)" data-writable-link', html)
    assert banner and unescape(banner[1]) == unescape(link[1])

    # In the writable region the page opens with the comment in the form, escaped.
    region(PRIMARY)
    continued = browser.get(f"{url.path}?{url.query}")
    assert continued.status_code == 200
    page = continued.content.decode()
    assert "Lovely light &amp; &lt;b&gt;colours&lt;/b&gt;\nsecond line</textarea>" in page
    assert "<b>colours</b>" not in page
    sent = browser.post(detail_path + "comments/", {"csrfmiddlewaretoken": token, "message": typed})
    assert sent.status_code == 302
    assert selectors.photo_get(photo_id=photo.id).comment_count == 1


def test_carried_text_is_cut_to_the_limit_and_loses_control_characters(aws, page_client):
    photo = _photo_in_both_regions()
    browser = page_client("bob")
    too_long = "y" * (COMMENT_MAX_LENGTH + 50)
    cut = browser.get(f"/photos/{photo.id}/", {"comment": too_long})
    assert cut.status_code == 200
    assert f">{'y' * COMMENT_MAX_LENGTH}</textarea>" in cut.content.decode()

    odd = browser.get(f"/photos/{photo.id}/", {"comment": "a\x00b\x1bc\r\nd\u200b"})
    assert odd.status_code == 200
    assert ">abc\nd\u200b</textarea>" in odd.content.decode()

    title = browser.get("/upload/", {"title": "t\x07" + "z" * (TITLE_MAX_LENGTH + 5)})
    assert title.status_code == 200
    assert f'value="t{"z" * (TITLE_MAX_LENGTH - 1)}"' in title.content.decode()


def test_an_upload_refused_on_the_read_only_region_continues_with_its_title(
    aws, page_client, region
):
    region(SECONDARY)
    browser = page_client("bob", region=SECONDARY)
    token = csrf_token(browser, "/upload/")
    refused = browser.post(
        "/upload/",
        {"csrfmiddlewaretoken": token, "title": "Dune & sea", "image": upload_file(image_bytes())},
    )
    assert refused.status_code == 421
    html = refused.content.decode()
    link = re.search(r'<a href="([^"]+)" data-testid="continue-link">', html)
    assert link, html
    assert unescape(link[1]) == (
        f"{settings.MRA_REGION_URLS[PRIMARY]}/upload/?{urlencode({'title': 'Dune & sea'})}"
    )
    assert "a file cannot be carried" in html

    region(PRIMARY)
    continued = browser.get("/upload/?" + urlencode({"title": "Dune & sea"}))
    assert continued.status_code == 200
    assert 'value="Dune &amp; sea"' in continued.content.decode()


def test_a_page_on_the_read_only_region_links_to_the_same_page_in_the_writable_one(aws, region):
    from django.test import Client

    region(SECONDARY)
    html = Client().get("/?cursor=").content.decode()
    link = re.search(r'<a href="([^"]+)" data-writable-link[^>]*>([^<]*)</a>', html)
    assert link and not re.search(r"data-writable-link[^>]*hidden", html)
    assert unescape(link[1]) == f"{settings.MRA_REGION_URLS[PRIMARY]}/?cursor="
    assert link[2] == f"Continue on {PRIMARY}"

    region(PRIMARY)
    html = Client().get("/").content.decode()
    assert re.search(r"data-writable-link[^>]*hidden", html)
