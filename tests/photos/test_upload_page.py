"""The upload page's JSON answers (what upload.js gets for each file) and form errors
tied to their fields on the server-rendered pages."""

import re

from django.test import Client

from photos import selectors
from routing.selectors import clear_state_cache
from tests.conftest import PRIMARY
from tests.photos.conftest import csrf_token, image_bytes, stored_keys, upload_file
from tests.photos.test_uploads import set_state


def _post(browser, token, *, key, **fields):
    return browser.post(
        "/upload/",
        {"csrfmiddlewaretoken": token, **fields},
        HTTP_ACCEPT="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_each_file_the_page_sends_is_refused_in_json_storing_nothing_or_stored_once(
    aws, page_client
):
    before = stored_keys()
    # A session that ended meanwhile: the script is told to sign in again, not sent a page.
    signed_out = _post(Client(), "", key="k-0", title="Cat", image=upload_file(image_bytes()))
    assert signed_out.status_code == 401 and signed_out.json()["error"] == "not_authenticated"
    assert "Sign in again" in signed_out.json()["detail"]

    browser = page_client("alice")
    token = csrf_token(browser, "/upload/")

    no_title = _post(browser, token, key="k-1", title=" ", image=upload_file(image_bytes()))
    assert no_title.status_code == 400
    assert no_title.json()["errors"] == {"title": ["Give the photo a title."]}

    not_a_photo = _post(browser, token, key="k-2", title="Cat", image=upload_file(b"<svg/>"))
    assert not_a_photo.status_code == 400
    body = not_a_photo.json()
    assert body["error"] == "unsupported_type" and body["errors"]["image"] == [body["detail"]]

    bad_key = _post(browser, token, key=" x", title="Cat", image=upload_file(image_bytes()))
    assert bad_key.status_code == 400 and bad_key.json()["error"] == "invalid_idempotency_key"

    set_state(PRIMARY, "fenced")
    clear_state_cache()
    try:
        paused = _post(browser, token, key="k-3", title="Dune", image=upload_file(image_bytes()))
    finally:
        set_state(PRIMARY, "active")
        clear_state_cache()
    assert paused.status_code == 503 and paused["Retry-After"]
    assert paused.json()["error"] == "fenced" and paused.json()["detail"]

    assert selectors.photo_list(limit=10).results == []
    assert stored_keys() == before

    # The paused attempt spent no key: the same file with the same key goes through now,
    # and a retry of it (its answer lost, say) is answered with the same photo.
    data = image_bytes()
    first = _post(browser, token, key="k-3", title="Dune", image=upload_file(data, "dune.jpg"))
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["url"] == f"/photos/{body['id']}/" and body["title"] == "Dune"
    assert browser.get(body["url"]).status_code == 200
    again = _post(browser, token, key="k-3", title="Dune", image=upload_file(data, "dune.jpg"))
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert [p.id for p in selectors.photo_list(limit=10).results] == [body["id"]]
    reused = _post(browser, token, key="k-3", title="Other", image=upload_file(data))
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused"


def test_server_rendered_errors_are_tied_to_their_fields(aws, page_client):
    browser = page_client("alice")
    token = csrf_token(browser, "/upload/")
    html = browser.post(
        "/upload/", {"csrfmiddlewaretoken": token, "title": "", "image": upload_file(b"")}
    ).content.decode()
    title = re.search(r'<input[^>]*id="id_title"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in title and 'aria-describedby="id_title_error"' in title
    assert 'id="id_title_error"' in html

    page = Client().post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    username = re.search(r'<input[^>]*id="id_username"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in username
    described = re.search(r'aria-describedby="([^"]+)"', username).group(1).split()
    assert "id_username_error" in described and 'id="id_username_error"' in page
