import base64
import hashlib
import hmac
import json
import time

import pytest
import requests
from jose import jwk

from accounts.tokens import InvalidToken, KeysUnavailable, TokenExpired, verify
from mra_site.aws import cognito
from mra_site.aws.cognito import pool_config
from tests.accounts.conftest import PRIMARY_KEYS, SECONDARY_KEYS
from tests.conftest import PRIMARY, SECONDARY
from tests.tokens import EMULATOR_PRIVATE_JWK, claims_for, sign, unsigned


@pytest.fixture
def tokens(aws, make_user):
    username, password = make_user("alice")
    return cognito.sign_in(region=PRIMARY, username=username, password=password)


def test_real_tokens_from_the_emulated_pool_are_accepted(tokens):
    claims = verify(tokens.access_token, token_use="access")
    assert claims["username"] == "alice"
    id_claims = verify(tokens.id_token, token_use="id")
    assert id_claims["cognito:username"] == "alice"


def test_tokens_of_the_other_regions_pool_are_trusted(aws, make_user):
    username, password = make_user("bob")
    tokens = cognito.sign_in(region=SECONDARY, username=username, password=password)
    assert verify(tokens.access_token)["iss"].endswith(pool_config(SECONDARY).pool_id)


def test_access_and_id_tokens_are_not_interchangeable(tokens):
    with pytest.raises(InvalidToken, match="access token is required"):
        verify(tokens.id_token, token_use="access")
    with pytest.raises(InvalidToken):
        verify(tokens.access_token, token_use="id")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"exp": int(time.time()) - 5}, TokenExpired),
        ({"nbf": int(time.time()) + 600}, InvalidToken),
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_forged"}, InvalidToken),
        ({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x"}, InvalidToken),
        ({"iss": "https://evil.example.com/us-east-1_x"}, InvalidToken),
        ({"client_id": "someone-elses-client"}, InvalidToken),
        ({"token_use": "refresh"}, InvalidToken),
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "unknown-pool",
        "foreign-region",
        "non-cognito",
        "client",
        "use",
    ],
)
def test_forged_claims_are_rejected(offline_pools, overrides, error):
    assert verify(sign(claims_for(PRIMARY)))["username"] == "mallory"
    with pytest.raises(error):
        verify(sign(claims_for(PRIMARY, **overrides)))


def test_id_token_for_another_audience_is_rejected(offline_pools):
    assert verify(sign(claims_for(PRIMARY, token_use="id")), token_use="id")
    with pytest.raises(InvalidToken):
        verify(sign(claims_for(PRIMARY, token_use="id", aud="other-client")), token_use="id")


def test_alg_none_is_rejected(offline_pools):
    with pytest.raises(InvalidToken, match="algorithm"):
        verify(unsigned(claims_for(PRIMARY)))


def test_hs256_signed_with_the_public_key_is_rejected(offline_pools):
    public = requests.get(pool_config(PRIMARY).jwks_url, timeout=5).json()["keys"][0]
    pem = jwk.construct(public, algorithm="RS256").to_pem()

    def part(data: dict) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    signing_input = part({"alg": "HS256", "kid": "dummy"}) + b"." + part(claims_for(PRIMARY))
    mac = hmac.new(pem, signing_input, hashlib.sha256).digest()
    forged = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    with pytest.raises(InvalidToken, match="algorithm"):
        verify(forged)


def test_another_key_or_an_unknown_kid_is_rejected(offline_pools):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(InvalidToken, match="rejected"):
        verify(sign(claims_for(PRIMARY), key=pem))
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verify(sign(claims_for(PRIMARY), kid="rotated-away"))
    with pytest.raises(InvalidToken, match="no signing key"):
        verify(sign(claims_for(PRIMARY), kid=None))


def test_tampered_payload_is_rejected(tokens):
    header, payload, signature = tokens.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["operators"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        verify(f"{header}.{forged_payload}.{signature}")


@pytest.mark.parametrize(
    "garbage", ["", "abc", "a.b", "a.b.c", "....", "eyJhbGciOiJSUzI1NiJ9.eyJ", "x" * 5000]
)
def test_truncated_and_non_jwt_strings_are_rejected(offline_pools, garbage):
    with pytest.raises(InvalidToken):
        verify(garbage)
    with pytest.raises(InvalidToken):
        verify(sign(claims_for(PRIMARY))[:-20])


def test_keys_are_cached_and_refetched_for_an_unknown_kid_once_a_minute_and_after_their_ttl(
    offline_pools, settings, clock
):
    token = sign(claims_for(PRIMARY))
    verify(token)
    verify(token)
    assert offline_pools.count(PRIMARY_KEYS) == 1
    with pytest.raises(InvalidToken):
        verify(sign(claims_for(PRIMARY), kid="new-key"))
    assert offline_pools.count(PRIMARY_KEYS) == 1
    clock[0] += 61
    with pytest.raises(InvalidToken):
        verify(sign(claims_for(PRIMARY), kid="new-key"))
    assert offline_pools.count(PRIMARY_KEYS) == 2
    clock[0] += settings.MRA_COGNITO_JWKS_TTL + 1
    verify(token)
    assert offline_pools.count(PRIMARY_KEYS) == 3


def test_the_emulator_key_is_the_one_the_pool_publishes(aws):
    published = requests.get(pool_config(PRIMARY).jwks_url, timeout=5).json()["keys"]
    assert [k["kid"] for k in published] == ["dummy"]
    assert published[0]["n"] == EMULATOR_PRIVATE_JWK["n"]


def test_access_tokens_older_than_the_sites_max_age_are_expired(offline_pools, settings, client):
    now = int(time.time())
    assert verify(sign(claims_for(PRIMARY, iat=now - 890)))
    with pytest.raises(TokenExpired, match="older than"):
        verify(sign(claims_for(PRIMARY, iat=now - 910, exp=now + 3000)))
    settings.MRA_ACCESS_TOKEN_MAX_AGE_SECONDS = 5
    aged = sign(claims_for(PRIMARY, iat=now - 6, exp=now + 3000))
    with pytest.raises(TokenExpired):
        verify(aged)
    response = client.get("/api/photos", HTTP_AUTHORIZATION=f"Bearer {aged}")
    assert response.status_code == 401
    assert response.json()["error"] == "token_expired"
    assert response["WWW-Authenticate"].startswith("Bearer")
    with pytest.raises(InvalidToken, match="issue time"):
        verify(sign({k: v for k, v in claims_for(PRIMARY).items() if k != "iat"}))


def _network_down(monkeypatch) -> list[str]:
    """No JWKS answers from now on; returns the URLs asked."""
    asked: list[str] = []

    def unreachable(url, *args, **kwargs):
        asked.append(url)
        raise requests.ConnectionError(f"region down: {url}")

    monkeypatch.setattr(requests, "get", unreachable)
    return asked


def test_keys_held_are_served_when_their_pool_cannot_be_reached(
    offline_pools, settings, clock, monkeypatch
):
    token = sign(claims_for(PRIMARY))
    verify(token)
    # Verifying a token of one pool fetched the other pool's keys too.
    assert sorted(offline_pools) == [PRIMARY_KEYS, SECONDARY_KEYS]
    asked = _network_down(monkeypatch)
    clock[0] += settings.MRA_COGNITO_JWKS_TTL + 1
    for _ in range(3):
        assert verify(token)["username"] == "mallory"
    assert asked == [PRIMARY_KEYS]  # tried once, not on every request
    assert verify(sign(claims_for(SECONDARY)))["username"] == "mallory"
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verify(sign(claims_for(PRIMARY), kid="rotated"))


def test_a_pool_never_reached_cannot_be_checked_and_says_so(offline_pools, monkeypatch):
    _network_down(monkeypatch)
    with pytest.raises(KeysUnavailable):
        verify(sign(claims_for(PRIMARY)))
