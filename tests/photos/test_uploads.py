"""The upload pipeline end to end: every refusal with a crafted file, metadata
stripping, media layout, and the write fence."""

import io

from django.conf import settings
from PIL import Image

from mra_site.aws.clients import client as aws_client
from mra_site.aws.clients import dynamodb_table
from mra_site.resources import media_bucket
from routing.selectors import routing_state_get
from tests.conftest import PRIMARY, SECONDARY
from tests.photos.conftest import (
    crafted_refusals,
    image_bytes,
    noise_png,
    stored_keys,
    upload_file,
)
from tests.photos.schema import ApiSchema


def test_every_bad_file_is_refused_clearly_and_leaves_nothing(aws, api_client, settings):
    settings.MRA_PHOTO_MAX_BYTES = 40_000
    alice = api_client("alice")
    for name, data, code in crafted_refusals():
        response = alice.post("/api/photos", {"title": name, "image": upload_file(data)})
        assert response.status_code == 400, (name, response.content)
        body = response.json()
        assert body["error"] == code, (name, body)
        assert len(body["detail"]) > 20, name
    assert (
        "40000"
        not in alice.post(
            "/api/photos", {"title": "big", "image": upload_file(noise_png(200))}
        ).json()["detail"]
    ), "the limit is stated in MB, for people"

    missing_title = alice.post("/api/photos", {"title": "  ", "image": upload_file(image_bytes())})
    assert missing_title.json()["error"] == "invalid_title"
    missing_image = alice.post("/api/photos", {"title": "no file"})
    assert missing_image.json()["error"] == "missing_image"
    anonymous = api_client().post(
        "/api/photos", {"title": "x", "image": upload_file(image_bytes())}
    )
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")

    assert stored_keys(PRIMARY) == []
    assert api_client().get("/api/photos").json() == {"results": [], "next_cursor": None}


def exif_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated a quarter turn clockwise
    exif[0x010F] = "ExampleCam"
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)}
    exif[0x8769] = {0xA431: "SERIAL-0042"}
    return exif.tobytes()


def test_upload_strips_metadata_stores_media_and_matches_the_schema(aws, api_client):
    schema = ApiSchema(api_client())
    alice = api_client("alice")
    original = image_bytes("JPEG", size=(600, 400), exif=exif_with_location())
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the upload has GPS

    created = alice.post(
        "/api/photos", {"title": "Harbour", "image": upload_file(original, name="../../x.svg")}
    )
    assert created.status_code == 201, created.content
    schema.check("POST", "/api/photos", created)
    photo = created.json()
    assert (photo["width"], photo["height"]) == (400, 600)  # orientation applied
    assert photo["content_type"] == "image/jpeg" and photo["owner"] == "alice"
    assert photo["comment_count"] == 0

    pid = photo["id"]
    assert stored_keys(PRIMARY) == [
        f"photos/{pid}/display.webp",
        f"photos/{pid}/original.jpg",
        f"photos/{pid}/thumb.webp",
    ]
    s3 = aws_client("s3", PRIMARY)
    stored = s3.get_object(Bucket=media_bucket(PRIMARY), Key=f"photos/{pid}/original.jpg")
    assert stored["ContentType"] == "image/jpeg"
    stored_bytes = stored["Body"].read()
    stored_image = Image.open(io.BytesIO(stored_bytes))
    assert stored_image.size == (400, 600)
    assert not stored_image.getexif()  # no GPS, no camera, no orientation left
    assert b"SERIAL-0042" not in stored_bytes and b"ExampleCam" not in stored_bytes
    thumb = s3.get_object(Bucket=media_bucket(PRIMARY), Key=f"photos/{pid}/thumb.webp")
    assert thumb["ContentType"] == "image/webp"
    thumb_image = Image.open(io.BytesIO(thumb["Body"].read()))
    assert thumb_image.format == "WEBP" and thumb_image.size == (320, 480)
    display = s3.get_object(Bucket=media_bucket(PRIMARY), Key=f"photos/{pid}/display.webp")
    display_bytes = display["Body"].read()
    assert Image.open(io.BytesIO(display_bytes)).size == (400, 600)  # upright, not upscaled
    assert b"SERIAL-0042" not in display_bytes and b"ExampleCam" not in display_bytes
    assert (photo["display_width"], photo["display_height"]) == (400, 600)

    # The presigned URL really serves the stored bytes.
    import requests

    assert requests.get(photo["url"], timeout=5).content == stored_bytes

    for other_format, ext in (("PNG", "png"), ("WEBP", "webp")):
        response = alice.post(
            "/api/photos",
            {"title": ext, "image": upload_file(image_bytes(other_format), name="a.jpg")},
        )
        assert response.status_code == 201 and response.json()["content_type"] == f"image/{ext}"

    anonymous = api_client()
    schema.check("GET", "/api/photos", anonymous.get("/api/photos", {"limit": 2}))
    schema.check("GET", "/api/photos/{photo_id}", anonymous.get(f"/api/photos/{pid}"))
    schema.check("GET", "/api/photos/{photo_id}", anonymous.get("/api/photos/" + "0" * 32))
    schema.check("GET", "/api/photos", anonymous.get("/api/photos", {"cursor": "forged"}))
    schema.check("GET", "/api/photos", anonymous.get("/api/photos", {"limit": "1000"}))
    comment = alice.post(
        f"/api/photos/{pid}/comments", {"message": "Lovely"}, content_type="application/json"
    )
    schema.check("POST", "/api/photos/{photo_id}/comments", comment)
    schema.check(
        "POST",
        "/api/photos/{photo_id}/comments",
        anonymous.post(
            f"/api/photos/{pid}/comments", {"message": "x"}, content_type="application/json"
        ),
    )
    schema.check(
        "GET", "/api/photos/{photo_id}/comments", anonymous.get(f"/api/photos/{pid}/comments")
    )
    schema.check("DELETE", "/api/photos/{photo_id}", api_client("bob").delete(f"/api/photos/{pid}"))
    schema.check("DELETE", "/api/photos/{photo_id}", alice.delete(f"/api/photos/{pid}"))
    assert not [p for p in schema.spec["paths"] if p.startswith("/api/photos") and p.endswith("/")]
    docs = anonymous.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in docs and "cdn" not in docs.lower()


def set_state(region: str, state: str) -> None:
    dynamodb_table(region, f"{settings.MRA_TABLE_PREFIX}state").update_item(
        Key={"app_id": settings.MRA_APP_ID},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": state},
    )


def test_a_fenced_or_passive_region_refuses_uploads_and_keeps_no_media(aws, api_client, region):
    alice = api_client("alice")
    # The cached state still says active, so the upload gets as far as writing
    # its media before the transaction's state check refuses it.
    assert routing_state_get(region=PRIMARY).state.value == "active"
    set_state(PRIMARY, "fenced")
    refused = alice.post("/api/photos", {"title": "late", "image": upload_file(image_bytes())})
    assert refused.status_code == 503, refused.content
    assert refused["Retry-After"]
    assert refused.json()["error"] == "fenced"
    assert stored_keys(PRIMARY) == []
    assert api_client().get("/api/photos").json()["results"] == []

    region(SECONDARY)
    passive = alice.post(
        "/api/photos", {"title": "wrong region", "image": upload_file(image_bytes())}
    )
    assert passive.status_code == 421
    assert (
        passive.json()["writable_region"] is None or passive.json()["error"] == "read_only_region"
    )
    assert stored_keys(SECONDARY) == []
