"""The write-sharded gallery index: pages merged across shards, and the backfill."""

import threading
from contextvars import ContextVar

import pytest
from django.core.management import call_command

from mra_site.aws.dynamodb import item_get, items_put_batch, write_stamp
from mra_site.resources import table_name
from photos.records import (
    GALLERY,
    META,
    PendingPurge,
    Photo,
    gallery_pk,
    gallery_shard_pks,
    media_keys,
    photo_item,
    photo_pk,
    purge_item,
)
from photos.selectors import _each_shard, photo_list
from tests.conftest import PRIMARY


def _item(n: int, photo_id: str, *, created_at: str = "") -> dict:
    original, thumbnail = media_keys(photo_id, "jpg")
    photo = Photo(
        id=photo_id,
        title=f"photo {n}",
        owner="alice",
        owner_id="id-alice",
        created_at=created_at or f"2026-0{1 + n % 9}-01T00:00:{n:02d}.000000Z",
        width=8,
        height=8,
        content_type="image/jpeg",
        original_key=original,
        thumbnail_key=thumbnail,
        comment_count=0,
        media_region=PRIMARY,
    )
    return {**photo_item(photo), **write_stamp(PRIMARY)}


def _ids_in_shards(counts: list[int]) -> list[str]:
    """Photo ids, `counts[n]` of them in shard n (uneven, some shards empty)."""
    ids: list[str] = []
    wanted = dict(zip(gallery_shard_pks(), counts, strict=False))
    n = 0
    while any(wanted.values()):
        candidate = f"{n:08x}" + "0" * 24
        n += 1
        if wanted.get(gallery_pk(candidate), 0):
            wanted[gallery_pk(candidate)] -= 1
            ids.append(candidate)
    return ids


def _walk(limit: int) -> list[str]:
    seen, cursor = [], None
    while True:
        page = photo_list(limit=limit, cursor=cursor, region=PRIMARY)
        seen += [photo.id for photo in page.results]
        assert len(page.results) == limit or page.next_cursor is None
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_uneven_shards_page_newest_first_without_gap_or_duplicate(aws):
    items = [_item(n, photo_id) for n, photo_id in enumerate(_ids_in_shards([13, 0, 1, 4]))]
    purge = purge_item(PendingPurge(photo_id="f" * 32, deleted_at="2027-01-01T00:00:00.000000Z"))
    items_put_batch(region=PRIMARY, table=table_name("photos"), items=[*items, purge])
    newest_first = [item["id"] for item in sorted(items, key=lambda i: i["gallery_sk"])][::-1]

    for limit in (1, 4, 5, 18, 40):
        assert _walk(limit) == newest_first


def test_the_backfill_moves_old_photos_once_and_leaves_purges_alone(aws):
    table = table_name("photos")
    items = [_item(n, photo_id) for n, photo_id in enumerate(_ids_in_shards([2, 3, 1, 1]))]
    old_layout = [{**item, "gallery_pk": GALLERY} for item in items]
    purge = purge_item(PendingPurge(photo_id="f" * 32, deleted_at="2026-01-01T00:00:00.000000Z"))
    items_put_batch(region=PRIMARY, table=table, items=[*old_layout, purge])
    assert photo_list(region=PRIMARY).results == []

    call_command("gallery_backfill", region=PRIMARY)
    newest_first = [item["id"] for item in sorted(items, key=lambda i: i["gallery_sk"])][::-1]
    assert _walk(3) == newest_first
    first = {"pk": photo_pk(items[0]["id"]), "sk": META}
    written = item_get(region=PRIMARY, table=table, key=first)
    assert written is not None

    call_command("gallery_backfill", region=PRIMARY)
    assert item_get(region=PRIMARY, table=table, key=first) == written  # the same write stamp
    purge_key = {"pk": purge["pk"], "sk": purge["sk"]}
    assert item_get(region=PRIMARY, table=table, key=purge_key) == purge


def test_the_shards_are_read_at_once_in_the_callers_context():
    shards = ("GALLERY#0", "GALLERY#1", "GALLERY#2", "GALLERY#3")
    # Each read waits until every shard's read has begun: read one after
    # another, the first would wait in vain (BrokenBarrierError).
    together = threading.Barrier(len(shards), timeout=10)
    caller: ContextVar[str] = ContextVar("caller", default="none")
    caller.set("site")

    def read(shard: str) -> tuple[str, str]:
        together.wait()
        return shard, caller.get()

    assert _each_shard(read, shards) == [(shard, "site") for shard in shards]


def test_a_shard_that_fails_fails_the_page_once_every_read_has_ended():
    ended: list[str] = []
    slow = threading.Event()

    def read(shard: str) -> str:
        if shard.endswith("0"):
            raise RuntimeError("no answer")
        slow.wait(0.2)  # the others are still reading when the first fails
        ended.append(shard)
        return shard

    with pytest.raises(RuntimeError, match="no answer"):
        _each_shard(read, ("GALLERY#0", "GALLERY#1", "GALLERY#2", "GALLERY#3"))
    # Nothing runs on for a request that was answered (its settings, its breaker).
    assert sorted(ended) == ["GALLERY#1", "GALLERY#2", "GALLERY#3"]
