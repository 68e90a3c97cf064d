import pytest
from django.test import Client

from accounts import services
from accounts.cookies import ACCESS_COOKIE, REFRESH_COOKIE
from mra_site.aws import cognito
from mra_site.aws.clients import client as aws_client
from mra_site.aws.cognito import pool_config
from tests.conftest import PRIMARY, SECONDARY
from tests.tokens import claims_for, sign


@pytest.fixture
def browser_client():
    return Client(enforce_csrf_checks=True)


def post_form(c: Client, path: str, data: dict):
    page = c.get(path)
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    return c.post(path, {**data, "csrfmiddlewaretoken": token})


def test_sign_up_signs_in_and_provisions_both_regions(aws, browser_client):
    response = post_form(
        browser_client,
        "/accounts/signup/",
        {"username": "carol", "email": "carol@example.com", "password": "Sunny-days-42"},
    )
    assert response.status_code == 302
    assert response.cookies[ACCESS_COOKIE]["httponly"]
    assert response.cookies[ACCESS_COOKIE]["samesite"] == "Lax"
    assert response.cookies[ACCESS_COOKIE]["secure"]  # DEBUG is off in tests
    home = browser_client.get("/")
    assert '<span class="user" data-testid="header-user">carol' in home.content.decode()
    # The user can sign in on the other region's pool, e.g. after a failover.
    assert cognito.sign_in(region=SECONDARY, username="carol", password="Sunny-days-42")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "dave", "email": "d@example.com", "password": "short"}, "stronger password"),
        (
            {"username": "dave", "email": "d@example.com", "password": "alllowercase123"},
            "upper-case",
        ),
        ({"username": "x", "email": "d@example.com", "password": "Sunny-days-42"}, "3 to 32"),
        ({"username": "dave", "email": "not-an-email", "password": "Sunny-days-42"}, "valid e"),
        ({"username": "alice", "email": "a@example.com", "password": "Sunny-days-42"}, "is taken"),
    ],
    ids=["short", "weak", "username", "email", "taken"],
)
def test_sign_up_refusals_are_clear(aws, make_user, browser_client, data, message):
    make_user("alice")
    response = post_form(browser_client, "/accounts/signup/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_sign_in_and_out_through_the_pages(aws, make_user, browser_client):
    make_user("alice", "Correct-horse-1")
    wrong = post_form(
        browser_client, "/accounts/login/", {"username": "alice", "password": "Wrong-horse-1"}
    )
    assert wrong.status_code == 400
    assert "Incorrect username or password." in wrong.content.decode()
    unknown = post_form(
        browser_client, "/accounts/login/", {"username": "nobody", "password": "Wrong-horse-1"}
    )
    assert "Incorrect username or password." in unknown.content.decode()

    ok = post_form(
        browser_client,
        "/accounts/login/",
        {"username": "alice", "password": "Correct-horse-1", "next": "/readyz"},
    )
    assert ok.status_code == 302
    assert ok["Location"] == "/readyz"
    assert "alice" in browser_client.get("/").content.decode()

    out = browser_client.post(
        "/accounts/logout/", {"csrfmiddlewaretoken": browser_client.cookies["csrftoken"].value}
    )
    assert out.status_code == 302
    assert out.cookies[ACCESS_COOKIE].value == ""
    assert "Sign in" in browser_client.get("/").content.decode()


def test_open_redirects_are_not_followed(aws, make_user, browser_client):
    make_user("alice", "Correct-horse-1")
    response = post_form(
        browser_client,
        "/accounts/login/",
        {"username": "alice", "password": "Correct-horse-1", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_unconfirmed_user_is_sent_to_the_code_page(aws, browser_client):
    config = pool_config(PRIMARY)
    aws_client("cognito-idp", PRIMARY).sign_up(
        ClientId=config.client_id, Username="erin", Password="Sunny-days-42"
    )
    response = post_form(
        browser_client, "/accounts/login/", {"username": "erin", "password": "Sunny-days-42"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm/?username=erin"
    api = browser_client.post(
        "/api/auth/token",
        {"username": "erin", "password": "Sunny-days-42"},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert api.json()["error"] == "user_not_confirmed"


def test_expired_access_token_is_refreshed_without_the_user_noticing(aws, make_user, client):
    make_user("alice", "Correct-horse-1")
    tokens = cognito.sign_in(region=PRIMARY, username="alice", password="Correct-horse-1")
    expired = sign(claims_for(PRIMARY, username="alice", exp=1_000_000))
    client.cookies[ACCESS_COOKIE] = expired
    client.cookies[REFRESH_COOKIE] = tokens.refresh_token
    response = client.get("/")
    assert "alice" in response.content.decode()
    fresh = response.cookies[ACCESS_COOKIE].value
    assert fresh and fresh != expired
    assert client.get("/").cookies.get(ACCESS_COOKIE) is None  # nothing more to refresh


def test_a_bad_cookie_signs_the_browser_out_cleanly(aws, client):
    client.cookies[ACCESS_COOKIE] = "garbage"
    response = client.get("/")
    assert response.status_code == 200
    assert "Sign in" in response.content.decode()
    assert response.cookies[ACCESS_COOKIE].value == ""


def test_operators_are_recognised_from_the_group(aws, make_user, client):
    make_user("olga", "Correct-horse-1", operator=True)
    make_user("alice", "Correct-horse-1")
    for username, is_operator in (("olga", True), ("alice", False)):
        tokens = cognito.sign_in(region=PRIMARY, username=username, password="Correct-horse-1")
        client.cookies[ACCESS_COOKIE] = tokens.access_token
        page = client.get("/").content.decode()
        assert ('class="badge console-link"' in page) is is_operator


def test_token_api(aws, make_user, client):
    make_user("alice", "Correct-horse-1")
    ok = client.post(
        "/api/auth/token",
        {"username": "alice", "password": "Correct-horse-1"},
        content_type="application/json",
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["token_type"] == "Bearer"
    assert {"access_token", "id_token", "refresh_token", "expires_in"} <= set(body)

    wrong = client.post(
        "/api/auth/token",
        {"username": "alice", "password": "nope"},
        content_type="application/json",
    )
    assert wrong.status_code == 401
    assert wrong.json() == {
        "error": "invalid_credentials",
        "detail": "Incorrect username or password.",
    }

    missing = client.post("/api/auth/token", {"username": "alice"}, content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid"
    assert "password" in missing.json()["detail"]

    garbled = client.post("/api/auth/token", "{not json", content_type="application/json")
    assert garbled.status_code == 400

    refreshed = client.post(
        "/api/auth/token", {"refresh_token": body["refresh_token"]}, content_type="application/json"
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] != body["access_token"]
    assert (
        client.get(
            "/api/auth/token", HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access_token']}"
        ).status_code
        == 405
    )

    forged = client.post(
        "/api/auth/token", {"refresh_token": "not-a-token"}, content_type="application/json"
    )
    assert forged.status_code == 401
    assert "Sign in again" in forged.json()["detail"]


def test_sign_in_page_refusals_without_asking_a_region(monkeypatch):
    empty = Client().post("/accounts/login/", {"username": "alice", "password": ""})
    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()

    def unavailable(**credentials):
        raise services.AccountError("Accounts are unavailable in us-east-1.", status=503)

    monkeypatch.setattr(services, "user_sign_in", unavailable)
    down = Client().post("/accounts/login/", {"username": "alice", "password": "Secret-1234"})
    assert down.status_code == 503 and down["Retry-After"] == "5"
    assert "Accounts are unavailable in us-east-1." in down.content.decode()
    assert 'value="alice"' in down.content.decode()
