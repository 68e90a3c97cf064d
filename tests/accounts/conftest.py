import time
from typing import Any

import pytest
import requests

from accounts.tokens import jwks_cache
from mra_site.aws.clients import region_breaker
from mra_site.aws.cognito import clear_pool_cache
from tests.conftest import PRIMARY, SECONDARY
from tests.tokens import EMULATOR_KID, emulator_key

OFFLINE_JWKS_URL = "https://keys.invalid/{region}/.well-known/jwks.json"
# The primary pool's keys: verifying a token also fetches the other pool's once.
PRIMARY_KEYS = OFFLINE_JWKS_URL.format(region=PRIMARY)
SECONDARY_KEYS = OFFLINE_JWKS_URL.format(region=SECONDARY)


class _Published:
    """What Cognito's JWKS endpoint answers: the public half of the pools' key."""

    def __init__(self) -> None:
        public = emulator_key().public_key().to_dict()
        self.body = {"keys": [{**public, "kid": EMULATOR_KID, "use": "sig"}]}

    def raise_for_status(self) -> None:
        return None

    def json(self) -> dict[str, Any]:
        return self.body


@pytest.fixture
def offline_pools(settings, monkeypatch) -> list[str]:
    """Both regions' pools configured by id, as on AWS, with their signing keys served
    without a network: claim checks run with no emulator. Returns the JWKS URLs fetched."""
    settings.MRA_COGNITO_POOL_IDS = {PRIMARY: f"{PRIMARY}_Offline1", SECONDARY: f"{SECONDARY}_Off2"}
    settings.MRA_COGNITO_CLIENT_IDS = {PRIMARY: "client-east", SECONDARY: "client-west"}
    settings.MRA_COGNITO_JWKS_URLS = {
        region: OFFLINE_JWKS_URL.format(region=region) for region in (PRIMARY, SECONDARY)
    }
    fetched: list[str] = []

    def get(url: str, *args: Any, **kwargs: Any) -> _Published:
        if not url.startswith("https://keys.invalid/"):
            raise requests.ConnectionError(f"no network in this test: {url}")
        fetched.append(url)
        return _Published()

    monkeypatch.setattr(requests, "get", get)
    # Fetching keys consults the region breaker, which an earlier test may have
    # left open (a region it found down).
    region_breaker.reset()
    clear_pool_cache()
    jwks_cache.clear()
    yield fetched
    region_breaker.reset()
    clear_pool_cache()
    jwks_cache.clear()


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    """time.monotonic() stands still at clock[0] until the test moves it."""
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    return now
