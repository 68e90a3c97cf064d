"""One identity per username across both regions: the user registry."""

import io
import time
from dataclasses import replace

import psutil
import pytest
from django.core.management import call_command
from django.test import Client

from accounts import identity, registry, services, tokens
from accounts.services import AccountError
from mra_site.aws import cognito
from mra_site.aws.clients import region_breaker
from mra_site.aws.dynamodb import item_get, item_put, write_stamp
from mra_site.resources import table_name
from photos import selectors
from photos.records import META, comment_item, photo_pk
from photos.records import Comment as CommentRecord
from tests.conftest import PRIMARY, SECONDARY
from tests.photos.conftest import image_bytes, upload_file

PASSWORD = "Correct-horse-1"
ATTACKER_PASSWORD = "Other-horse-2"


def _sign_up(username: str, password: str = PASSWORD) -> None:
    services.user_sign_up(username=username, email=f"{username}@example.com", password=password)


def _bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _upload(token: str, title: str = "Mine") -> dict:
    response = _bearer(token).post(
        "/api/photos", {"title": title, "image": upload_file(image_bytes())}
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize("name", ["Demo", "DEMO", "ｄｅｍｏ", "ＤＥＭＯ"])
def test_variants_normalise_to_one_name(name):
    assert registry.username_normalise(name) == "demo"


def test_surrounding_space_is_refused_before_any_region_is_asked():
    for name in ("demo ", " demo", "demo\t"):
        with pytest.raises(AccountError) as refused:
            _sign_up(name)
        assert refused.value.status == 400 and "space" in refused.value.detail


def test_case_and_width_variants_of_a_taken_name_are_refused_and_take_nothing_over(aws):
    _sign_up("demo")
    demo = registry.user_find(username="demo")
    assert demo is not None and set(demo.subs) == {PRIMARY, SECONDARY} and not demo.pending
    for variant in ("Demo", "DEMO", "ｄｅｍｏ"):
        with pytest.raises(AccountError) as refused:
            _sign_up(variant, "Another-pass-9")
        assert refused.value.status == 409 and refused.value.code == "username_taken"
        assert cognito.user_sub(region=PRIMARY, username=variant) is None
    # `DEMO` created behind the site's back (the emulator's usernames are
    # case-sensitive) gets tokens from the pool, which open nothing here.
    photo = _upload(services.user_sign_in(username="demo", password=PASSWORD).access_token)
    assert photo["owner"] == "demo" and photo["owner_id"] == demo.id
    cognito.admin_ensure_user(
        region=PRIMARY, username="DEMO", password=ATTACKER_PASSWORD, email="m@example.com"
    )
    stolen = cognito.sign_in(region=PRIMARY, username="DEMO", password=ATTACKER_PASSWORD)
    assert _bearer(stolen.access_token).delete(f"/api/photos/{photo['id']}").status_code == 401
    assert selectors.photo_get(photo_id=photo["id"]).owner_id == demo.id


@pytest.mark.slow  # seconds of read timeouts against the frozen emulator
def test_a_name_claimed_while_the_other_pool_was_down_cannot_be_taken_there(aws, region):
    """The issue's reproduction: the secondary's emulator frozen during sign-up."""
    frozen = psutil.Process(aws[SECONDARY].proc.pid)
    frozen.suspend()
    try:
        _sign_up("victimx")
    finally:
        frozen.resume()
    region_breaker.reset()
    victim = registry.user_find(username="victimx")
    assert victim is not None and victim.pending == (SECONDARY,) and set(victim.subs) == {PRIMARY}

    # A second sign-up of the name on the secondary's site is refused.
    region(SECONDARY)
    with pytest.raises(AccountError) as refused:
        _sign_up("victimx", ATTACKER_PASSWORD)
    assert refused.value.status == 409
    # The same name created in the secondary's pool out of band: its token is nobody here.
    cognito.admin_ensure_user(
        region=SECONDARY, username="victimx", password=ATTACKER_PASSWORD, email="m@example.com"
    )
    stolen = cognito.sign_in(region=SECONDARY, username="victimx", password=ATTACKER_PASSWORD)
    region(PRIMARY)
    # The victim signs in and uploads; the squatter's account is not adopted.
    token = services.user_sign_in(username="victimx", password=PASSWORD).access_token
    assert registry.user_find(username="victimx").pending == (SECONDARY,)
    photo = _upload(token, "Victim's")
    assert _bearer(stolen.access_token).delete(f"/api/photos/{photo['id']}").status_code == 401
    with pytest.raises(AccountError) as wrong:
        services.user_sign_in(username="victimx", password=ATTACKER_PASSWORD)
    assert wrong.value.status == 401
    assert selectors.photo_get(photo_id=photo["id"]).owner_id == victim.id


def test_a_pool_missed_at_sign_up_is_completed_at_the_next_sign_in(aws, settings):
    settings.MRA_COGNITO_PROVISION_PEER = False  # as if the other pool did not answer
    _sign_up("lena")
    assert registry.user_find(username="lena").pending == (SECONDARY,)
    settings.MRA_COGNITO_PROVISION_PEER = True
    services.user_sign_in(username="LENA", password=PASSWORD)
    lena = registry.user_find(username="lena")
    assert not lena.pending and lena.subs[SECONDARY] == cognito.user_sub(
        region=SECONDARY, username="lena"
    )


def test_a_user_deletes_their_own_photo_with_a_token_from_either_region(aws, region):
    _sign_up("nora")
    for serving in (PRIMARY, SECONDARY):
        region(serving)
        token = services.user_sign_in(username="nora", password=PASSWORD).access_token
        region(PRIMARY)
        photo = _upload(token, f"from {serving}")
        assert _bearer(token).delete(f"/api/photos/{photo['id']}").status_code == 204


def test_a_user_created_in_cognito_is_claimed_at_first_sign_in(aws):
    for pool_region in (PRIMARY, SECONDARY):
        cognito.admin_ensure_user(
            region=pool_region, username="ada", password=PASSWORD, email="ada@example.com"
        )
    assert registry.user_find(username="ada") is None
    token = services.user_sign_in(username="ada", password=PASSWORD).access_token
    ada = registry.user_find(username="ada")
    assert ada is not None and set(ada.subs) == {PRIMARY, SECONDARY}
    assert _upload(token)["owner_id"] == ada.id


def test_the_identity_migration_assigns_ids_once(aws):
    for pool_region in (PRIMARY, SECONDARY):
        cognito.admin_ensure_user(
            region=pool_region, username="olga", password=PASSWORD, email="olga@example.com"
        )
    # A photo and a comment as stored before the registry: owned by the bare name.
    photo_id = "a" * 32
    table = table_name("photos")
    old_photo = {
        "pk": photo_pk(photo_id),
        "sk": META,
        "gallery_pk": "GALLERY",
        "gallery_sk": f"2026-01-01T00:00:00.000000Z#{photo_id}",
        "owner_pk": "OWNER#olga",
        "owner_sk": f"2026-01-01T00:00:00.000000Z#{photo_id}",
        "id": photo_id,
        "title": "Old",
        "owner": "olga",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "width": 8,
        "height": 8,
        "content_type": "image/png",
        "original_key": f"photos/{photo_id}/original.png",
        "thumbnail_key": f"photos/{photo_id}/thumb.webp",
        "comment_count": 1,
        **write_stamp(PRIMARY),
    }
    item_put(region=PRIMARY, table=table, item=old_photo)
    comment = comment_item(
        CommentRecord(
            id="b" * 32,
            photo_id=photo_id,
            author="olga",
            message="hi",
            created_at="2026-01-01T00:00:01.000000Z",
            author_id="",
        )
    )
    del comment["author_id"]
    item_put(region=PRIMARY, table=table, item=comment)

    first = io.StringIO()
    call_command("identity_migrate", stdout=first, stderr=io.StringIO())
    olga = registry.user_find(username="olga")
    assert olga is not None and set(olga.subs) == {PRIMARY, SECONDARY}
    assert "1 users registered, 1 photos and 1 comments" in first.getvalue()
    migrated = selectors.photo_get(photo_id=photo_id)
    assert migrated.owner_id == olga.id
    assert [p.id for p in selectors.photo_list(limit=10, owner=olga.id).results] == [photo_id]
    stored = item_get(region=PRIMARY, table=table, key={"pk": comment["pk"], "sk": comment["sk"]})
    assert stored["author_id"] == olga.id

    second = io.StringIO()
    call_command("identity_migrate", stdout=second, stderr=io.StringIO())
    assert "0 users registered, 0 photos and 0 comments" in second.getvalue()
    assert registry.user_find(username="olga") == olga


def test_a_token_whose_pool_record_changed_is_refused_once_the_cached_lookup_ages(aws, monkeypatch):
    # Every signed-in request maps its token to a user through the registry; the
    # answer is kept per process for LOOKUP_MAX_AGE_SECONDS, never longer.
    _sign_up("iris")
    claims = tokens.verify(services.user_sign_in(username="iris", password=PASSWORD).access_token)
    monkeypatch.setattr(registry, "LOOKUP_MAX_AGE_SECONDS", 3600.0)
    iris = identity.user_for_claims(claims)
    assert iris is not None and iris.username == "iris"
    record = registry.user_find(username="iris")
    replaced = replace(record, subs={**record.subs, PRIMARY: "someone-else"})
    item_put(
        region=PRIMARY,
        table=table_name("users"),
        item=registry.record_items(replaced, region=PRIMARY)[1],
    )
    assert identity.user_for_claims(claims) == iris  # within the cache's period
    monkeypatch.setattr(registry, "LOOKUP_MAX_AGE_SECONDS", 0.01)
    time.sleep(0.02)  # older than the period now: read again
    assert identity.user_for_claims(claims) is None
