"""Lists, comments and deletes through the API, as clients and the table see them."""

import threading

from django.conf import settings

from mra_site.aws.clients import dynamodb_table
from mra_site.resources import table_name
from photos import services
from tests.conftest import PRIMARY
from tests.photos.conftest import image_bytes, stored_keys, upload_file


def seed_photos(count: int, owners: tuple[str, ...] = ("alice",)) -> list[str]:
    """Upload `count` tiny photos through the pipeline; ids newest first."""
    ids = []
    for n in range(count):
        photo = services.photo_create(
            owner=owners[n % len(owners)],
            owner_id=f"id-{owners[n % len(owners)]}",
            title=f"photo {n}",
            upload=upload_file(image_bytes("PNG", size=(8, 8), color=(n % 256, 0, 0))),
        )
        ids.append(photo.id)
    return ids[::-1]


def walk(client, path: str, **params) -> tuple[list[str], int]:
    seen, pages, cursor = [], 0, None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = client.get(path, query).json()
        seen += [item["id"] for item in body["results"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            return seen, pages


def test_sixty_photos_page_without_gap_or_duplicate_and_cursors_are_tamper_checked(
    aws, api_client, page_client
):
    newest_first = seed_photos(60, owners=("alice", "bob"))
    anonymous = api_client()

    seen, pages = walk(anonymous, "/api/photos", limit=7)
    assert seen == newest_first
    assert pages == 9  # 8 full pages and one of 4; the last page hands out no cursor
    assert walk(anonymous, "/api/photos", limit=60) == (newest_first, 1)

    first = anonymous.get("/api/photos", {"limit": 5}).json()
    cursor = first["next_cursor"]
    for forged in ("garbage", cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"), "x" * 5000):
        response = anonymous.get("/api/photos", {"cursor": forged})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_cursor"
    # A cursor of one list is no good on another.
    some_photo = newest_first[0]
    other_list = anonymous.get(f"/api/photos/{some_photo}/comments", {"cursor": cursor})
    assert other_list.status_code == 400
    assert anonymous.get("/api/photos", {"limit": "0"}).status_code == 400

    # The pages: 24 at a time, "Load more" by cursor, then "My photos" for one owner.
    browser = page_client("alice")
    gallery_ids, path = [], "/"
    while path:
        html = browser.get(path).content.decode()
        ids = [chunk.split('"', 1)[0] for chunk in html.split('data-photo-id="')[1:]]
        assert len(ids) == min(24, 60 - len(gallery_ids))
        gallery_ids += ids
        marker = 'href="/?cursor='
        path = "/?cursor=" + html.split(marker, 1)[1].split('"', 1)[0] if marker in html else ""
        path = path.replace("&amp;", "&")
    assert gallery_ids == newest_first
    mine = browser.get("/me/").content.decode()
    assert mine.count("data-photo-id=") == 24
    assert 'href="/me/?cursor=' in mine
    assert ">bob ·" not in mine and ">alice ·" in mine
    assert browser.get("/?cursor=forged").status_code == 400


def test_comments_count_exactly_under_concurrency_and_take_the_author_from_the_token(
    aws, api_client
):
    (photo_id,) = seed_photos(1)
    bob = api_client("bob")
    url = f"/api/photos/{photo_id}/comments"

    trimmed = bob.post(
        url, {"message": "  Nice light  ", "author": "mallory"}, content_type="application/json"
    )
    assert trimmed.status_code == 201
    assert trimmed.json()["message"] == "Nice light" and trimmed.json()["author"] == "bob"
    for bad in ("", "   \n ", "x" * 1001):
        refused = bob.post(url, {"message": bad}, content_type="application/json")
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_message"
    assert (
        bob.post(url, {"message": "x" * 1000}, content_type="application/json").status_code == 201
    )
    missing = bob.post(
        f"/api/photos/{'0' * 32}/comments", {"message": "hi"}, content_type="application/json"
    )
    assert missing.status_code == 404

    errors = []

    def comment(n: int) -> None:
        try:
            services.comment_create(
                photo_id=photo_id, author="carol", author_id="id-carol", message=f"comment {n}"
            )
        except Exception as exc:  # collected, so the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=comment, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    photo = api_client().get(f"/api/photos/{photo_id}").json()
    assert photo["comment_count"] == 18
    listed = api_client().get(url).json()
    assert len(listed["results"]) == 18 and listed["next_cursor"] is None
    times = [c["created_at"] for c in listed["results"]]
    assert times == sorted(times)  # oldest first


def test_only_the_owner_deletes_and_the_delete_takes_comments_and_media(aws, api_client):
    alice, bob, anonymous = api_client("alice"), api_client("bob"), api_client()
    created = alice.post("/api/photos", {"title": "mine", "image": upload_file(image_bytes())})
    photo_id = created.json()["id"]
    keep = alice.post("/api/photos", {"title": "other", "image": upload_file(image_bytes())})
    for n in range(3):
        bob.post(
            f"/api/photos/{photo_id}/comments",
            {"message": f"c{n}"},
            content_type="application/json",
        )

    assert anonymous.delete(f"/api/photos/{photo_id}").status_code == 401
    forbidden = bob.delete(f"/api/photos/{photo_id}")
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "permission_denied"
    assert anonymous.get(f"/api/photos/{photo_id}").json()["comment_count"] == 3

    assert alice.delete(f"/api/photos/{photo_id}").status_code == 204
    assert anonymous.get(f"/api/photos/{photo_id}").status_code == 404
    assert anonymous.get(f"/api/photos/{photo_id}/comments").status_code == 404
    assert alice.delete(f"/api/photos/{photo_id}").status_code == 404
    remaining = dynamodb_table(PRIMARY, f"{settings.MRA_TABLE_PREFIX}photos").query(
        KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": f"PHOTO#{photo_id}"}
    )["Items"]
    assert remaining == []
    assert [k for k in stored_keys(PRIMARY) if photo_id in k] == []
    assert [p["id"] for p in anonymous.get("/api/photos").json()["results"]] == [keep.json()["id"]]


def test_a_cursor_from_one_regions_gallery_pages_on_in_the_other(aws, sites):
    """Both sites sign with the deployment's one secret key, so a page that moved region
    (through the front door) keeps paging."""
    import requests

    from photos.records import photo_item
    from photos.selectors import photo_get
    from tests.conftest import SECONDARY

    ids = seed_photos(3)
    for photo_id in ids:
        photo = photo_get(photo_id=photo_id, region=PRIMARY)
        dynamodb_table(SECONDARY, table_name("photos")).put_item(Item=photo_item(photo))
    first = requests.get(f"{sites[PRIMARY].url}/api/photos", {"limit": 2}, timeout=10).json()
    assert [p["id"] for p in first["results"]] == ids[:2]
    rest = requests.get(
        f"{sites[SECONDARY].url}/api/photos",
        {"limit": 2, "cursor": first["next_cursor"]},
        timeout=10,
    )
    assert rest.status_code == 200, rest.text
    assert [p["id"] for p in rest.json()["results"]] == ids[2:]
