from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import PRIMARY, SECONDARY

from .helpers import new_id, object_get, object_put, photo_get, photo_put


def test_resync_copies_a_region_into_the_other_once(aws, state_dir):
    photo_id = new_id()
    original = photo_put(PRIMARY, photo_id, "only in the east")
    object_put(PRIMARY, f"media/{photo_id}.jpg", b"east", ContentType="image/jpeg")
    newer_in_west = photo_put(SECONDARY, "shared", "newer in the west")
    photo_put(
        PRIMARY, "shared", "older in the east", written_at=newer_in_west["mra_written_at"] - 1
    )

    out = StringIO()
    call_command("replicate", "--resync-to", SECONDARY, stdout=out)
    assert "re-synchronised from us-east-1" in out.getvalue()

    copied = photo_get(SECONDARY, photo_id)
    assert copied["mra_written_at"] == original["mra_written_at"]
    assert copied["mra_region"] == PRIMARY
    assert photo_get(SECONDARY, "shared")["title"] == "newer in the west"
    media = object_get(SECONDARY, f"media/{photo_id}.jpg")
    assert media["Body"] == b"east" and media["ContentType"] == "image/jpeg"

    again = StringIO()
    call_command("replicate", "--resync-to", SECONDARY, stdout=again)
    assert "0 objects copied" in again.getvalue()


def test_resync_refuses_an_unknown_region(state_dir):
    with pytest.raises(CommandError, match="not one of"):
        call_command("replicate", "--resync-to", "eu-west-3")
