"""Deleting a photo removes every version of its media; a removal S3 refuses is
recorded with the delete and completed by photos_gc."""

import io

import pytest
from django.core.management import call_command

from mra_site.aws import s3
from mra_site.aws.clients import client
from mra_site.resources import media_bucket
from photos import services
from photos.errors import PhotoNotFound
from photos.gc import purges_pending
from photos.records import media_prefix
from photos.selectors import photo_get
from tests.conftest import PRIMARY
from tests.photos.conftest import image_bytes, upload_file


def _versions(photo_id: str) -> tuple[list[str], list[str]]:
    """(keys of versions holding bytes, keys of delete markers) of the photo's media."""
    listed = s3.object_versions(
        region=PRIMARY, bucket=media_bucket(PRIMARY), prefix=media_prefix(photo_id)
    )
    return (
        sorted(v.key for v in listed if not v.delete_marker),
        sorted(v.key for v in listed if v.delete_marker),
    )


def test_a_delete_removes_every_version_and_photos_gc_the_markers_left(aws):
    photo = services.photo_create(
        owner="alice", owner_id="id-alice", title="t", upload=upload_file(image_bytes())
    )
    # An older version of the original and another object of the photo.
    extra = f"{media_prefix(photo.id)}edited.jpg"
    for key in (photo.original_key, extra):
        s3.object_put(
            region=PRIMARY, bucket=media_bucket(PRIMARY), key=key, body=b"x", content_type="a/b"
        )
    assert len(_versions(photo.id)[0]) == 5

    services.photo_delete(photo_id=photo.id, owner_id="id-alice")

    with pytest.raises(PhotoNotFound):
        photo_get(photo_id=photo.id)
    keys = sorted([photo.original_key, photo.thumbnail_key, photo.display_key, extra])
    # The newest marker of each key stays: it is what replication carries.
    assert _versions(photo.id) == ([], keys)
    assert list(purges_pending(region=PRIMARY)) == []

    call_command("photos_gc", "--grace", "0", stdout=io.StringIO())
    assert _versions(photo.id) == ([], [])


@pytest.fixture
def locking_bucket(aws, settings):
    """The media bucket replaced by one with S3 Object Lock, whose legal hold makes S3
    refuse to delete a version: a refusal S3 reports per key in DeleteObjects."""
    name = "mra-media-lock-{region}"
    bucket = name.format(region=PRIMARY)
    s3_client = client("s3", PRIMARY)
    s3_client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    settings.MRA_MEDIA_BUCKET = name
    yield bucket
    listed = s3.object_versions(region=PRIMARY, bucket=bucket)
    for version in listed:
        if not version.delete_marker:
            s3_client.put_object_legal_hold(
                Bucket=bucket,
                Key=version.key,
                VersionId=version.version_id,
                LegalHold={"Status": "OFF"},
            )
    s3.versions_delete(region=PRIMARY, bucket=bucket, versions=listed)
    s3_client.delete_bucket(Bucket=bucket)


def test_a_refused_media_delete_stays_pending_until_photos_gc_completes_it(locking_bucket):
    photo = services.photo_create(
        owner="alice", owner_id="id-alice", title="t", upload=upload_file(image_bytes())
    )
    held = s3.object_head(region=PRIMARY, bucket=locking_bucket, key=photo.original_key)
    assert held is not None

    def hold(status: str) -> None:
        client("s3", PRIMARY).put_object_legal_hold(
            Bucket=locking_bucket,
            Key=photo.original_key,
            VersionId=held.version_id,
            LegalHold={"Status": status},
        )

    hold("ON")
    services.photo_delete(photo_id=photo.id, owner_id="id-alice")  # the photo is gone all the same
    with pytest.raises(PhotoNotFound):
        photo_get(photo_id=photo.id)
    assert [p.photo_id for p in purges_pending(region=PRIMARY)] == [photo.id]
    assert _versions(photo.id)[0] == [photo.original_key]

    out, err = io.StringIO(), io.StringIO()
    call_command("photos_gc", stdout=out, stderr=err)  # still refused: the record stays
    assert f"deleted photo {photo.id} remain" in err.getvalue()
    assert [p.photo_id for p in purges_pending(region=PRIMARY)] == [photo.id]

    hold("OFF")
    out = io.StringIO()
    call_command("photos_gc", stdout=out)  # default grace: pending purges do not wait for it
    assert "purged 1 deleted photos' media" in out.getvalue()
    assert _versions(photo.id)[0] == []
    assert list(purges_pending(region=PRIMARY)) == []
