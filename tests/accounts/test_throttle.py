"""Sign-in throttling: fixed windows, counted in the region's throttle table."""

import pytest
from django.test import Client

from accounts.throttle import Window, counter_key, username_normalised
from mra_site.aws import dynamodb
from mra_site.resources import table_name
from tests.conftest import PRIMARY


def test_window_arithmetic():
    window = Window.at(1_000_059.25, 60)
    assert (window.start, window.end) == (1_000_020, 1_000_080)
    assert window.retry_after(1_000_059.25) == 21
    assert window.retry_after(1_000_079.9) == 1
    assert window.retry_after(1_000_020) == 60
    assert Window.at(1_000_080, 60).start == 1_000_080
    # Expired by TTL one window after it ended; never read after it ended.
    assert window.expires_at == 1_000_140
    assert counter_key("user", "demo", window) == "user#demo#1000020"


def test_usernames_are_counted_in_one_form():
    assert {username_normalised(n) for n in ("Demo", "DEMO ", "ｄｅｍｏ", " demo")} == {"demo"}


def _token(client: Client, username: str, password: str, address: str):
    return client.post(
        "/api/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def _page(username: str, password: str, address: str):
    return Client().post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_five_failures_refuse_the_right_password_until_the_window_ends(aws, make_user, client):
    make_user("alice")
    make_user("bob")
    for attempt in range(5):
        wrong = _token(client, "alice", "Wrong-horse-1", "198.51.100.1")
        assert wrong.status_code == 401, attempt
    refused = _token(client, "alice", "Correct-horse-1", "198.51.100.1")
    assert refused.status_code == 429
    assert refused.json()["error"] == "too_many_attempts"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Wait" in refused.json()["detail"]
    # Another form of the same name, from another address, is the same username.
    assert _token(client, "ALICE", "Correct-horse-1", "198.51.100.2").status_code == 429
    # The page says so under the form, with the same status.
    page = _page("alice", "Correct-horse-1", "198.51.100.3")
    assert page.status_code == 429 and page["Retry-After"]
    assert "Too many failed sign-in attempts" in page.content.decode()
    # Another user from another address is not affected.
    assert _token(client, "bob", "Correct-horse-1", "198.51.100.4").status_code == 200
    # The counter is the region's own item, with its expiry.
    items, _ = dynamodb.items_scan(
        region=PRIMARY, table=table_name("throttle"), where=dynamodb.Attr("pk").exists(), limit=10
    )
    counts = {item["pk"].rsplit("#", 1)[0]: int(item["failures"]) for item in items}
    assert counts["user#alice"] == 5 and counts["addr#198.51.100.1"] == 5


def test_one_address_failing_for_many_usernames_is_refused(aws, make_user, client, settings):
    settings.MRA_THROTTLE_ADDRESS_FAILURES = 3
    make_user("carol")
    for name in ("x-one", "x-two", "x-three"):
        assert _token(client, name, "Wrong-horse-1", "203.0.113.9").status_code == 401
    assert _token(client, "carol", "Correct-horse-1", "203.0.113.9").status_code == 429
    # Successes do not count, and another address is free.
    assert _token(client, "carol", "Correct-horse-1", "203.0.113.10").status_code == 200
    assert _token(client, "carol", "Correct-horse-1", "203.0.113.10").status_code == 200


def test_a_spoofed_forwarded_for_stays_in_its_bucket(aws, client, settings):
    """Behind the door (one trusted hop), what the client puts in X-Forwarded-For
    comes before the door's entry and is not believed."""
    settings.MRA_THROTTLE_ADDRESS_FAILURES = 2
    for spoof in ("1.2.3.4", "5.6.7.8"):
        response = client.post(
            "/api/auth/token",
            {"username": f"nobody-{spoof}", "password": "Wrong-horse-1"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=f"{spoof},198.51.100.77",
            REMOTE_ADDR="127.0.0.1",
        )
        assert response.status_code == 401
    again = client.post(
        "/api/auth/token",
        {"username": "nobody-else", "password": "Wrong-horse-1"},
        content_type="application/json",
        HTTP_X_FORWARDED_FOR="9.9.9.9,198.51.100.77",
        REMOTE_ADDR="127.0.0.1",
    )
    assert again.status_code == 429


@pytest.mark.usefixtures("aws")
def test_refresh_failures_count_per_address(client, settings):
    settings.MRA_THROTTLE_ADDRESS_FAILURES = 2
    for _ in range(2):
        forged = client.post(
            "/api/auth/token",
            {"refresh_token": "not-a-token"},
            content_type="application/json",
            REMOTE_ADDR="192.0.2.5",
        )
        assert forged.status_code == 401
    throttled = client.post(
        "/api/auth/token",
        {"refresh_token": "not-a-token"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.5",
    )
    assert throttled.status_code == 429 and throttled["Retry-After"]


def test_sign_in_goes_on_when_the_throttle_table_does_not_answer(aws, make_user, client, caplog):
    from mra_site.aws import provision
    from mra_site.aws.clients import client as aws_client
    from mra_site.resources import REGIONAL_TABLES

    make_user("dave")
    ddb = aws_client("dynamodb", PRIMARY)
    ddb.delete_table(TableName=table_name("throttle"))
    try:
        response = _token(client, "dave", "Correct-horse-1", "198.51.100.50")
        assert response.status_code == 200
        assert "sign-in throttle unavailable" in caplog.text
    finally:
        for spec in REGIONAL_TABLES:
            provision.ensure_table(region=PRIMARY, spec=spec)
