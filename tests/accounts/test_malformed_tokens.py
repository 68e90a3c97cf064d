"""Malformed tokens are refused cleanly (never a 500), as Bearer tokens and as
cookies, and made-up key ids cannot make the site fetch the pools' keys."""

import base64
import json
import time
from typing import Any

import pytest

from accounts.cookies import ACCESS_COOKIE, REFRESH_COOKIE
from accounts.tokens import InvalidToken, verify
from tests.accounts.conftest import PRIMARY_KEYS
from tests.conftest import PRIMARY, registered_user
from tests.tokens import EMULATOR_KID, claims_for, emulator_key, sign

RS256 = {"alg": "RS256", "kid": EMULATOR_KID}


def _segment(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed(header: Any, claims: Any) -> str:
    """A token with this header and these claims, signed with the pools' real key,
    so that only its shape can be wrong."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = base64.urlsafe_b64encode(emulator_key().sign(signing_input.encode())).rstrip(b"=")
    return f"{signing_input}.{signature.decode()}"


def _without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


# Each case builds its token once the offline pools are configured (claims name them).
MALFORMED = {
    "kid-number": lambda c: signed({**RS256, "kid": 5}, c),
    "kid-list": lambda c: signed({**RS256, "kid": [EMULATOR_KID]}, c),
    "kid-dict": lambda c: signed({**RS256, "kid": {"k": EMULATOR_KID}}, c),
    "kid-null": lambda c: signed({**RS256, "kid": None}, c),
    "kid-empty": lambda c: signed({**RS256, "kid": ""}, c),
    "kid-absent": lambda c: signed({"alg": "RS256"}, c),
    "alg-number": lambda c: signed({**RS256, "alg": 256}, c),
    "alg-list": lambda c: signed({**RS256, "alg": ["RS256"]}, c),
    "alg-absent": lambda c: signed({"kid": EMULATOR_KID}, c),
    "header-list": lambda c: signed([RS256], c),
    "header-string": lambda c: signed("RS256", c),
    "header-number": lambda c: signed(1, c),
    "header-not-json": lambda c: signed(b"{alg: RS256", c),
    "header-not-base64": lambda c: "!!!." + sign(c).split(".", 1)[1],
    "header-not-utf8": lambda c: signed(b"\xff\xfe{}", c),
    "claims-list": lambda c: signed(RS256, [c]),
    "claims-string": lambda c: signed(RS256, "claims"),
    "claims-null": lambda c: signed(RS256, None),
    "exp-absent": lambda c: signed(RS256, _without(c, "exp")),
    "exp-string": lambda c: signed(RS256, {**c, "exp": str(c["exp"])}),
    "exp-bool": lambda c: signed(RS256, {**c, "exp": True}),
    "exp-float": lambda c: signed(RS256, {**c, "exp": c["exp"] + 0.5}),
    "exp-null": lambda c: signed(RS256, {**c, "exp": None}),
    "exp-list": lambda c: signed(RS256, {**c, "exp": [c["exp"]]}),
    "nbf-string": lambda c: signed(RS256, {**c, "nbf": "0"}),
    "nbf-list": lambda c: signed(RS256, {**c, "nbf": [0]}),
    "iat-string": lambda c: signed(RS256, {**c, "iat": str(c["iat"])}),
    "iat-dict": lambda c: signed(RS256, {**c, "iat": {}}),
    "iat-future": lambda c: signed(RS256, {**c, "iat": int(time.time()) + 3600}),
    "iss-number": lambda c: signed(RS256, {**c, "iss": 1}),
    "oversize": lambda c: signed(RS256, {**c, "padding": "x" * 8192}),
    "non-ascii": lambda c: sign(c) + "é",
}


@pytest.fixture(params=sorted(MALFORMED))
def malformed(request, offline_pools) -> str:
    return MALFORMED[request.param](claims_for(PRIMARY))


def test_iat_may_lie_only_a_little_in_the_future(offline_pools, settings):
    assert verify(signed(RS256, claims_for(PRIMARY)))["username"] == "mallory"
    now = int(time.time())
    assert verify(signed(RS256, claims_for(PRIMARY, iat=now + 5)))
    with pytest.raises(InvalidToken, match="future"):
        verify(signed(RS256, claims_for(PRIMARY, iat=now + 600)))
    settings.MRA_COGNITO_CLOCK_SKEW_SECONDS = 3600
    assert verify(signed(RS256, claims_for(PRIMARY, iat=now + 600)))


def test_malformed_tokens_are_refused_without_fetching_keys(malformed, offline_pools):
    with pytest.raises(InvalidToken):
        verify(malformed)
    with pytest.raises(InvalidToken):
        verify(malformed, token_use="id")
    assert offline_pools == []


def test_malformed_bearer_tokens_get_401(malformed, client):
    response = client.post("/api/photos", HTTP_AUTHORIZATION=f"Bearer {malformed}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == "not_authenticated"


def _cleared(response, name: str) -> bool:
    cookie = response.cookies.get(name)
    return cookie is not None and cookie.value == "" and cookie["max-age"] == 0


def test_a_wellformed_cookie_signs_the_page_in(aws, offline_pools, client):
    """The counterpart of the next test: the same page with a valid token of a
    registered user names its user."""
    claims = claims_for(PRIMARY)
    registered_user("mallory", subs={PRIMARY: claims["sub"]})
    client.cookies[ACCESS_COOKIE] = sign(claims)
    assert "mallory" in client.get("/accounts/login/").content.decode()


def test_a_malformed_cookie_serves_the_page_signed_out_and_clears_the_cookies(malformed, client):
    client.cookies[ACCESS_COOKIE] = malformed
    client.cookies[REFRESH_COOKIE] = "not-a-refresh-token"
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Sign in" in response.content.decode()
    assert "mallory" not in response.content.decode()
    assert _cleared(response, ACCESS_COOKIE) and _cleared(response, REFRESH_COOKIE)


def test_health_never_looks_at_cookies(malformed, client):
    client.cookies[ACCESS_COOKIE] = malformed
    client.cookies[REFRESH_COOKIE] = "not-a-refresh-token"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert ACCESS_COOKIE not in response.cookies and REFRESH_COOKIE not in response.cookies


def test_unknown_kids_cost_one_fetch_per_pool_per_interval(offline_pools, client, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    made_up = sign(claims_for(PRIMARY), kid="made-up")
    for _ in range(20):
        response = client.get("/api/photos", HTTP_AUTHORIZATION=f"Bearer {made_up}")
        assert response.status_code == 401
    assert offline_pools.count(PRIMARY_KEYS) == 1

    clock[0] += 59
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verify(sign(claims_for(PRIMARY), kid="another"))
    assert offline_pools.count(PRIMARY_KEYS) == 1

    clock[0] += 2
    for _ in range(5):
        with pytest.raises(InvalidToken, match="unknown signing key"):
            verify(made_up)
    assert offline_pools.count(PRIMARY_KEYS) == 2
    assert verify(sign(claims_for(PRIMARY)))["username"] == "mallory"
    assert offline_pools.count(PRIMARY_KEYS) == 2
