"""What the API and the pages accept before a write is stored: mostly plain values, one
round trip through the emulated region for the texts."""

import pytest
from django.http import QueryDict
from django.test import Client, RequestFactory

from accounts.users import CognitoUser
from mra_site.api import InputRefused
from photos import selectors, views
from photos.errors import InvalidInput
from photos.selectors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from photos.serializers import (
    CommentCreateSerializer,
    CommentPageQuery,
    PhotoPageQuery,
    PhotoUploadSerializer,
)
from photos.services import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH
from photos.texts import text_clean
from tests.photos.conftest import csrf_token, image_bytes, upload_file


def refusal(serializer, data) -> InputRefused:
    with pytest.raises(InputRefused) as refused:
        serializer.parse(data)
    return refused.value


def test_page_queries_default_per_list_and_take_cursors_as_given():
    assert PhotoPageQuery.parse({}) == {"limit": DEFAULT_PAGE_SIZE}
    assert CommentPageQuery.parse(QueryDict("limit=&cursor="))["limit"] == MAX_PAGE_SIZE
    assert PhotoPageQuery.parse({"limit": "7", "cursor": "abc"}) == {"limit": 7, "cursor": "abc"}


@pytest.mark.parametrize("limit", ["0", str(MAX_PAGE_SIZE + 1), "abc", "-3"])
def test_a_limit_out_of_range_is_refused_clearly(limit):
    refused = refusal(PhotoPageQuery, {"limit": limit})
    assert (refused.status, refused.code) == (400, "invalid_limit")
    assert f"from 1 to {MAX_PAGE_SIZE}" in refused.detail


@pytest.mark.parametrize("limit", ["0", "101", "abc"])
def test_the_api_answers_a_bad_limit_before_asking_any_region(limit):
    response = Client().get("/api/photos", {"limit": limit})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_limit"
    assert body["detail"] == f"limit: Give a whole number from 1 to {MAX_PAGE_SIZE}."


def test_comments_are_bounded_by_the_services_limit():
    assert CommentCreateSerializer.parse({"message": "  hi  "}) == {"message": "hi"}
    assert CommentCreateSerializer.parse({"message": "x" * COMMENT_MAX_LENGTH})
    for message in ("x" * (COMMENT_MAX_LENGTH + 1), "   ", None):
        refused = refusal(CommentCreateSerializer, {"message": message})
        assert refused.code == "invalid_message", message
    assert refusal(CommentCreateSerializer, {}).extra["fields"].keys() == {"message"}


def test_uploads_need_a_file_and_a_title_within_the_limit():
    photo = upload_file(image_bytes())
    assert refusal(PhotoUploadSerializer, {"title": "no file"}).code == "missing_image"
    not_a_file = refusal(PhotoUploadSerializer, {"title": "text", "image": "cat.jpg"})
    assert not_a_file.code == "missing_image" and "`image`" in not_a_file.detail
    too_long = {"title": "t" * (TITLE_MAX_LENGTH + 1), "image": photo}
    assert refusal(PhotoUploadSerializer, too_long).code == "invalid_title"
    assert refusal(PhotoUploadSerializer, {"title": " ", "image": photo}).code == "invalid_title"


def signed_in_post(path: str, data: dict):
    request = RequestFactory().post(path, data)
    request.user = CognitoUser(username="alice", sub="alice-sub", id="id-alice")
    request._dont_enforce_csrf_checks = True
    return request


def test_an_invalid_upload_form_is_shown_again_with_its_errors():
    response = views.upload(signed_in_post("/upload/", {"title": "t" * (TITLE_MAX_LENGTH + 1)}))
    assert response.status_code == 400
    html = response.content.decode()
    assert f"at most {TITLE_MAX_LENGTH} characters" in html
    assert "Choose a photo to upload." in html


def test_an_invalid_comment_form_is_refused_before_the_service(monkeypatch):
    def comment_create(**kwargs):
        raise AssertionError("the service must not be called")

    monkeypatch.setattr(views.services, "comment_create", comment_create)
    # The page shown again reads the photo; the form's refusal is what matters here.
    monkeypatch.setattr(views, "_detail", lambda request, photo_id, *, form, status: (form, status))
    form, status = views.comment_post(
        signed_in_post("/photos/x/comments/", {"message": "x" * (COMMENT_MAX_LENGTH + 1)}), "x"
    )
    assert status == 400
    assert f"at most {COMMENT_MAX_LENGTH} characters" in form.errors["message"][0]


@pytest.mark.parametrize(
    ("field", "typed", "named"),
    [
        ("title", "Invoice\u202eFDP.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("title", "left\u2066isolated\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("title", "bell\x07", "U+0007"),
        ("title", "two\nlines", "line break"),
        ("message", "hidden\u200bspace", "U+200B ZERO WIDTH SPACE"),
        ("message", "escape\x1b[31m", "U+001B"),
        ("message", "tag\U000e0041", "U+E0041 TAG LATIN CAPITAL LETTER A"),
        ("message", "broken\ud800", "U+D800"),
    ],
)
def test_characters_that_hide_or_reorder_text_are_refused_by_name(field, typed, named):
    with pytest.raises(InvalidInput) as refused:
        text_clean(typed, field=field, noun=field)
    assert (refused.value.status, refused.value.code) == (400, f"invalid_{field}")
    assert refused.value.field == field
    assert named in refused.value.detail and f"The {field} contains" in refused.value.detail


def test_texts_are_stored_in_nfc_with_joiners_and_comment_line_breaks_kept():
    assert text_clean(" Cafe\u0301 ", field="title", noun="title") == "Caf\u00e9"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert text_clean(family, field="title", noun="title") == family
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert text_clean(persian, field="title", noun="title") == persian
    typed = "first line\r\nsecond\tline\rthird"
    assert text_clean(typed, field="message", noun="comment") == ("first line\nsecond\tline\nthird")


def test_the_api_and_the_pages_store_nfc_and_refuse_bidi_overrides(aws, api_client, page_client):
    alice = api_client("alice")
    created = alice.post(
        "/api/photos", {"title": "Cafe\u0301", "image": upload_file(image_bytes())}
    )
    assert created.status_code == 201, created.content
    photo_id = created.json()["id"]
    assert created.json()["title"] == "Caf\u00e9"
    spoofed = alice.post(
        f"/api/photos/{photo_id}/comments",
        {"message": "see gpj.\u202eexe"},
        content_type="application/json",
    )
    assert spoofed.status_code == 400
    assert spoofed.json()["error"] == "invalid_message"
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in spoofed.json()["detail"]
    titled = alice.post("/api/photos", {"title": "a\u2067b", "image": upload_file(image_bytes())})
    assert (titled.status_code, titled.json()["error"]) == (400, "invalid_title")

    browser = page_client("bob")
    detail_path = f"/photos/{photo_id}/"
    token = csrf_token(browser, detail_path)
    page = browser.post(
        detail_path + "comments/", {"csrfmiddlewaretoken": token, "message": "x\u202dy"}
    )
    assert page.status_code == 400
    assert "U+202D LEFT-TO-RIGHT OVERRIDE" in page.content.decode()
    upload = browser.post(
        "/upload/",
        {"csrfmiddlewaretoken": token, "title": "ring\x07", "image": upload_file(image_bytes())},
    )
    assert upload.status_code == 400 and "U+0007" in upload.content.decode()

    assert selectors.comment_list(photo_id=photo_id).results == []
    assert [p.id for p in selectors.photo_list(limit=10).results] == [photo_id]
