"""Pagination cursors on plain values: no emulator, no HTTP."""

import pytest

from photos.cursors import cursor_decode, cursor_encode
from photos.errors import InvalidCursor

KEY = {"pk": "PHOTO#abc", "sk": "META"}
FIELDS = ("pk", "sk")


def test_a_cursor_gives_back_its_key():
    cursor = cursor_encode(key=KEY, scope="gallery")
    assert cursor_decode(cursor=cursor, scope="gallery", fields=FIELDS) == KEY


@pytest.mark.parametrize(
    ("cursor", "scope", "fields"),
    [
        (cursor_encode(key=KEY, scope="gallery"), "comments", FIELDS),
        (cursor_encode(key=KEY, scope="gallery")[:-2] + "AA", "gallery", FIELDS),
        (cursor_encode(key=KEY, scope="gallery"), "gallery", ("pk",)),
        (cursor_encode(key={"pk": 1, "sk": "META"}, scope="gallery"), "gallery", FIELDS),
        ("garbage", "gallery", FIELDS),
        ("x" * 5000, "gallery", FIELDS),
    ],
    ids=["other-list", "tampered", "other-fields", "not-strings", "garbage", "too-long"],
)
def test_a_cursor_not_made_for_this_list_is_refused(cursor, scope, fields):
    with pytest.raises(InvalidCursor):
        cursor_decode(cursor=cursor, scope=scope, fields=fields)


def test_a_gallery_cursor_holds_one_position_per_shard_in_the_sort_key_format():
    from photos.records import gallery_shard_pks
    from photos.selectors import _GALLERY_SCOPE, _gallery_cursor_decode

    shards = gallery_shard_pks()
    good = {shard: "" for shard in shards} | {shards[0]: "2026-01-01T00:00:00.000000Z#" + "a" * 32}
    cursor = cursor_encode(key=good, scope=_GALLERY_SCOPE)
    assert _gallery_cursor_decode(cursor, shards) == good
    for bad in ({**good, shards[1]: "PHOTO#x"}, dict(list(good.items())[1:])):
        with pytest.raises(InvalidCursor):
            _gallery_cursor_decode(cursor_encode(key=bad, scope=_GALLERY_SCOPE), shards)
