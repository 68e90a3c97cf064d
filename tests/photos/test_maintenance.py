"""photos_gc and the demo photos of `mra_bootstrap --demo`."""

import io

import pytest
from django.core.management import call_command

from mra_site.aws import s3
from mra_site.bootstrap import bootstrap_region
from mra_site.resources import media_bucket
from photos import selectors, services
from tests.conftest import PRIMARY, SECONDARY
from tests.photos.conftest import image_bytes, stored_keys, upload_file


def test_photos_gc_removes_only_old_media_without_metadata(aws):
    kept = services.photo_create(
        owner="alice", owner_id="id-alice", title="kept", upload=upload_file(image_bytes())
    )
    orphan = "photos/" + "a" * 32
    for key in (f"{orphan}/original.jpg", f"{orphan}/thumb.webp"):
        s3.object_put(
            region=PRIMARY,
            bucket=media_bucket(PRIMARY),
            key=key,
            body=b"x",
            content_type="image/jpeg",
        )

    out = io.StringIO()
    call_command("photos_gc", stdout=out)  # default grace: both are too young to judge
    assert "removed 0 orphaned objects" in out.getvalue()
    call_command("photos_gc", "--grace", "0", "--dry-run", stdout=out)
    assert len(stored_keys(PRIMARY)) == 5

    out = io.StringIO()
    call_command("photos_gc", "--grace", "0", stdout=out)
    assert "removed 2 orphaned objects" in out.getvalue()
    assert stored_keys(PRIMARY) == sorted([kept.original_key, kept.thumbnail_key, kept.display_key])


# A whole bootstrap of both regions: the slow tier's.
@pytest.mark.slow
def test_demo_bootstrap_seeds_the_same_photos_with_media_in_both_regions(aws):
    for region in (PRIMARY, SECONDARY):
        assert "8 demo photos" in bootstrap_region(region=region, demo=True)
        assert "8 demo photos" not in bootstrap_region(region=region, demo=True)
    photos = {
        region: selectors.photo_list(region=region, limit=50).results
        for region in (PRIMARY, SECONDARY)
    }
    assert len(photos[PRIMARY]) == 8
    assert [p.id for p in photos[PRIMARY]] == [p.id for p in photos[SECONDARY]]
    for region in (PRIMARY, SECONDARY):
        assert len(stored_keys(region)) == 24
        assert all(photo.display_key in stored_keys(region) for photo in photos[region])
    assert photos[PRIMARY][0].owner == "demo"
