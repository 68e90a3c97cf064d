"""Sessions in a regional outage: which pool a refresh asks, and a user of the
primary's pool who keeps using the site through the secondary while the
primary's emulator is frozen."""

import time
from collections.abc import Iterator

import psutil
import pytest
import requests
from django.conf import settings
from django.test import Client

from accounts import services
from accounts.cookies import ACCESS_COOKIE, refresh_cookie
from accounts.middleware import SESSION_ENDED
from accounts.tokens import issuing_region, refresh_tokens_join, refresh_tokens_split
from devstack.processes import Emulator, Site
from mra_site.aws import cognito
from mra_site.aws.cognito import Tokens
from mra_site.aws.errors import AuthFailed, RegionUnavailable
from tests.accounts.conftest import PRIMARY_KEYS
from tests.conftest import PRIMARY, SECONDARY, registered_user
from tests.tokens import claims_for, sign

BOTH = refresh_tokens_join({PRIMARY: "east-refresh", SECONDARY: "west-refresh"})


class Pools:
    """Both regions' pools as a refresh sees them: each accepts its own refresh
    token (`<region>` in its name) unless its region is down or it refuses."""

    OWN = {PRIMARY: "east-refresh", SECONDARY: "west-refresh"}

    def __init__(self, monkeypatch, *, down: tuple[str, ...] = (), refusing=()) -> None:
        self.down = down
        self.refusing = refusing
        self.asked: list[str] = []
        monkeypatch.setattr(cognito, "refresh", self.refresh)

    def refresh(self, *, region: str, refresh_token: str) -> Tokens:
        self.asked.append(region)
        if region in self.down:
            raise RegionUnavailable(
                f"refresh tokens: region {region} did not answer", region=region
            )
        if refresh_token != self.OWN[region] or region in self.refusing:
            raise AuthFailed("NotAuthorizedException: Invalid Refresh Token", region=region)
        return Tokens(
            access_token=sign(claims_for(region, username="olive")),
            id_token="",
            refresh_token=refresh_token,
            expires_in=3600,
        )


def test_refresh_asks_the_serving_regions_pool_and_never_the_down_one(
    offline_pools, region, monkeypatch
):
    region(SECONDARY)
    pools = Pools(monkeypatch, down=(PRIMARY,))
    expired = sign(claims_for(PRIMARY, username="olive", exp=1_000_000))
    tokens = services.tokens_refresh(refresh_token=BOTH, expired_access=expired)
    assert pools.asked == [SECONDARY]
    assert issuing_region(tokens.access_token) == SECONDARY
    assert refresh_tokens_split(tokens.refresh_token) == refresh_tokens_split(BOTH)


def test_refresh_falls_back_to_the_other_pool_when_the_serving_regions_does_not_answer(
    offline_pools, monkeypatch
):
    pools = Pools(monkeypatch, down=(PRIMARY,))
    tokens = services.tokens_refresh(refresh_token=BOTH)
    assert pools.asked == [PRIMARY, SECONDARY]
    assert issuing_region(tokens.access_token) == SECONDARY


def test_a_pool_that_refuses_its_own_token_ends_the_session(offline_pools, monkeypatch):
    pools = Pools(monkeypatch, refusing=(PRIMARY,))
    with pytest.raises(AuthFailed):
        services.tokens_refresh(refresh_token=BOTH)
    assert pools.asked == [PRIMARY]


def test_an_api_clients_bare_refresh_token_is_tried_in_each_pool(
    offline_pools, client, monkeypatch
):
    pools = Pools(monkeypatch)
    response = client.post(
        "/api/auth/token", {"refresh_token": "west-refresh"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert pools.asked == [PRIMARY, SECONDARY]
    assert refresh_tokens_split(response.json()["refresh_token"]) == {SECONDARY: "west-refresh"}

    Pools(monkeypatch, down=(PRIMARY, SECONDARY))
    down = client.post("/api/auth/token", {"refresh_token": BOTH}, content_type="application/json")
    assert down.status_code == 503 and down.json()["error"] == "region_unavailable"


def test_sign_in_keeps_the_refresh_token_of_each_pool_that_answered(
    aws, offline_pools, monkeypatch
):
    registered_user("olive", subs={PRIMARY: claims_for(PRIMARY)["sub"]})

    def sign_in(*, region: str, username: str, password: str) -> Tokens:
        if region == SECONDARY:
            raise RegionUnavailable("sign in: region us-west-2 did not answer", region=region)
        return Tokens(sign(claims_for(region)), "", f"{region}-refresh", 3600)

    monkeypatch.setattr(cognito, "sign_in", sign_in)
    tokens = services.user_sign_in(username="olive", password="Correct-horse-1")
    assert refresh_tokens_split(tokens.refresh_token) == {PRIMARY: "us-east-1-refresh"}


def _browser(access: str) -> Client:
    browser = Client()
    browser.cookies[ACCESS_COOKIE] = access
    browser.cookies[refresh_cookie(PRIMARY)] = "east-refresh"
    browser.cookies[refresh_cookie(SECONDARY)] = "west-refresh"
    return browser


@pytest.mark.parametrize("keys_held", [True, False], ids=["expired", "keys-never-fetched"])
def test_a_page_refreshes_in_the_surviving_pool(aws, offline_pools, region, monkeypatch, keys_held):
    """An expired token of the down region's pool, or one whose keys this process
    never got before the region went down, is replaced from the serving region's pool."""
    sub = claims_for(PRIMARY)["sub"]
    registered_user("olive", subs={PRIMARY: sub, SECONDARY: sub})
    region(SECONDARY)
    Pools(monkeypatch, down=(PRIMARY,))
    if not keys_held:
        serve = requests.get

        def primary_down(url: str, *args, **kwargs):
            if url == PRIMARY_KEYS:
                raise requests.ConnectionError("us-east-1 does not answer")
            return serve(url, *args, **kwargs)

        monkeypatch.setattr(requests, "get", primary_down)
    expired = {"exp": 1_000_000} if keys_held else {}
    access = sign(claims_for(PRIMARY, username="olive", **expired))
    browser = _browser(access)
    page = browser.get("/accounts/login/")
    assert '<span class="user" data-testid="header-user">olive' in page.content.decode()
    assert issuing_region(page.cookies[ACCESS_COOKIE].value) == SECONDARY


def test_a_session_no_pool_refreshes_ends_on_the_sign_in_page(offline_pools, monkeypatch):
    Pools(monkeypatch, down=(PRIMARY, SECONDARY))
    browser = _browser(sign(claims_for(PRIMARY, username="olive", exp=1_000_000)))
    response = browser.get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fme%2F"
    for name in (ACCESS_COOKIE, refresh_cookie(PRIMARY), refresh_cookie(SECONDARY)):
        assert response.cookies[name].value == ""
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert SESSION_ENDED in page.content.decode()


# --- the outage, end to end -------------------------------------------------

MAX_AGE = 3


@pytest.fixture
def secondary_site(aws, log_dir, sites_state_dir) -> Iterator[Site]:
    """The secondary's site, accepting access tokens for MAX_AGE seconds only."""
    site = Site(SECONDARY, log_dir, {})
    site.base_env = {
        "MRA_PRIMARY_REGION": PRIMARY,
        "MRA_SECONDARY_REGION": SECONDARY,
        "MRA_AWS_ENDPOINTS": ",".join(f"{r}={e.url}" for r, e in aws.items()),
        "MRA_REGION_URLS": f"{PRIMARY}=http://127.0.0.1:9,{SECONDARY}={site.url}",
        "MRA_LOG_LEVEL": "WARNING",
        "MRA_REPLICATION_STATE_DIR": str(sites_state_dir),
        "MRA_ACCESS_TOKEN_MAX_AGE_SECONDS": str(MAX_AGE),
    }
    site.start()
    yield site
    site.stop()


def _frozen(emulator: Emulator) -> psutil.Process:
    assert emulator.proc is not None
    process = psutil.Process(emulator.proc.pid)
    process.suspend()
    return process


@pytest.mark.slow
def test_a_user_of_the_primarys_pool_keeps_using_the_site_through_the_secondary(
    aws, make_user, secondary_site
):
    make_user("olive", "Correct-horse-1")
    # Signed in while both regions are up, on the primary (this process serves it).
    signed_in = Client().post(
        "/accounts/login/", {"username": "olive", "password": "Correct-horse-1"}
    )
    assert signed_in.status_code == 302
    cookies = {name: morsel.value for name, morsel in signed_in.cookies.items()}
    assert issuing_region(cookies[ACCESS_COOKIE]) == PRIMARY
    assert {refresh_cookie(PRIMARY), refresh_cookie(SECONDARY)} <= set(cookies)
    api = (
        Client()
        .post(
            "/api/auth/token",
            {"username": "olive", "password": "Correct-horse-1"},
            content_type="application/json",
        )
        .json()
    )
    signed_in_at = time.monotonic()

    site = requests.Session()
    site.cookies.update(cookies)
    bearer = {"Authorization": f"Bearer {api['access_token']}"}
    # The secondary's site has seen a token while both regions were up.
    assert "olive" in site.get(f"{secondary_site.url}/me/", timeout=30).text

    # The registry maps a token to olive through the pool's recorded `sub`.
    olive_sub = cognito.user_sub(region=PRIMARY, username="olive")
    primary = _frozen(aws[PRIMARY])
    try:
        # A token of the primary's pool, just issued, verifies with the keys held.
        just_issued = sign(claims_for(PRIMARY, username="olive", sub=olive_sub))
        read = requests.get(
            f"{secondary_site.url}/api/photos",
            headers={"Authorization": f"Bearer {just_issued}"},
            timeout=30,
        )
        assert read.status_code == 200

        time.sleep(max(0.0, MAX_AGE + 1 - (time.monotonic() - signed_in_at)))
        page = site.get(f"{secondary_site.url}/me/", allow_redirects=False, timeout=30)
        assert page.status_code == 200 and "olive" in page.text
        assert issuing_region(page.cookies[ACCESS_COOKIE]) == SECONDARY

        expired = requests.get(f"{secondary_site.url}/api/photos", headers=bearer, timeout=30)
        assert expired.status_code == 401 and expired.json()["error"] == "token_expired"
        refreshed = requests.post(
            f"{secondary_site.url}/api/auth/token",
            json={"refresh_token": api["refresh_token"]},
            timeout=30,
        )
        assert refreshed.status_code == 200
        new_access = refreshed.json()["access_token"]
        assert issuing_region(new_access) == SECONDARY
        again = requests.get(
            f"{secondary_site.url}/api/photos",
            headers={"Authorization": f"Bearer {new_access}"},
            timeout=30,
        )
        assert again.status_code == 200
    finally:
        primary.resume()
        # Site processes of the session that saw the region down (the door's
        # health checks reach them) wait out their cooldown before asking it again.
        time.sleep(settings.MRA_AWS_REGION_COOLDOWN)
