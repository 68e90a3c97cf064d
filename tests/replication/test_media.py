from unittest.mock import ANY

from mra_site.aws import s3
from mra_site.polling import poll
from mra_site.resources import media_bucket
from tests.conftest import PRIMARY, SECONDARY

from .helpers import REPLICATED, new_id, object_get, object_put, object_versions, settle


def test_objects_replicate_in_both_directions_with_type_and_metadata(replicator):
    east, west = f"media/{new_id()}.jpg", f"media/{new_id()}.png"
    object_put(PRIMARY, east, b"east bytes", ContentType="image/jpeg", Metadata={"owner": "alice"})
    object_put(SECONDARY, west, b"west bytes", ContentType="image/png")

    copied = poll(
        lambda: object_get(SECONDARY, east), what="east object in the west", timeout=REPLICATED
    )
    assert copied["Body"] == b"east bytes"
    assert copied["ContentType"] == "image/jpeg"
    assert copied["Metadata"]["owner"] == "alice"
    assert copied["Metadata"]["mra-replica-of"].startswith(f"{PRIMARY}:")
    assert (
        poll(lambda: object_get(PRIMARY, west), timeout=REPLICATED, what="west object in the east")[
            "Body"
        ]
        == b"west bytes"
    )


def test_a_new_version_replicates_and_a_replica_is_never_copied_back(replicator):
    key = f"media/{new_id()}.jpg"
    object_put(PRIMARY, key, b"v1", ContentType="image/jpeg")
    poll(
        lambda: (object_get(SECONDARY, key) or {}).get("Body") == b"v1",
        timeout=REPLICATED,
        what="v1 replicated",
    )
    object_put(PRIMARY, key, b"v2", ContentType="image/jpeg")
    poll(
        lambda: (object_get(SECONDARY, key) or {}).get("Body") == b"v2",
        timeout=REPLICATED,
        what="v2 replicated",
    )
    settle(1.2)

    versions, _ = object_versions(PRIMARY, key)
    assert len(versions) == 2, "the replicas in the other region came back as new versions"
    assert len(object_versions(SECONDARY, key)[0]) == 2


def test_a_deletion_purges_every_version_of_the_replica_and_is_not_echoed(replicator):
    key = f"media/{new_id()}.jpg"
    object_put(SECONDARY, key, b"v1", ContentType="image/jpeg")
    poll(lambda: object_get(PRIMARY, key), timeout=REPLICATED, what="v1 replicated")
    object_put(SECONDARY, key, b"v2", ContentType="image/jpeg")
    poll(
        lambda: len(object_versions(PRIMARY, key)[0]) == 2, timeout=REPLICATED, what="v2 replicated"
    )
    # As a photo's deletion does: a delete marker, then every version removed.
    s3.objects_purge(region=SECONDARY, bucket=media_bucket(SECONDARY), keys=[key])
    assert object_versions(SECONDARY, key) == ([], [ANY])

    poll(
        lambda: object_versions(PRIMARY, key) == ([], []),
        what="every version purged in the replica",
        timeout=REPLICATED,
    )
    settle(1.2)
    assert object_versions(SECONDARY, key) == ([], [ANY]), "the purge came back"
