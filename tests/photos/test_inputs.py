"""What the API and the pages accept before any service runs: no emulator needed."""

import pytest
from django.http import QueryDict
from django.test import Client, RequestFactory

from accounts.users import CognitoUser
from mra_site.api import InputRefused
from photos import views
from photos.selectors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from photos.serializers import (
    CommentCreateSerializer,
    CommentPageQuery,
    PhotoPageQuery,
    PhotoUploadSerializer,
)
from photos.services import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH
from tests.photos.conftest import image_bytes, upload_file


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
    request.user = CognitoUser(username="alice", sub="alice-sub")
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
