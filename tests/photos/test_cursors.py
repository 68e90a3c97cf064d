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
