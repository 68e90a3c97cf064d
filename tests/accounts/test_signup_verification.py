"""Sign-up as on AWS: the pool e-mails a code, and the site asks for it.

The emulator checks the code (scripts/moto-server) and writes the e-mail AWS
would send to its log, where these tests read the code."""

import re

import pytest
from django.test import Client

from accounts.cookies import ACCESS_COOKIE, refresh_cookie
from mra_site.aws import cognito
from mra_site.aws.clients import client as aws_client
from mra_site.aws.cognito import pool_config
from tests.accounts.test_views import post_form
from tests.conftest import PRIMARY, SECONDARY

PASSWORD = "Sunny-days-42"


@pytest.fixture(autouse=True)
def email_verification(settings):
    settings.MRA_COGNITO_AUTO_CONFIRM = False


@pytest.fixture
def browser_client():
    return Client(enforce_csrf_checks=True)


def emailed_code(emulators, username: str) -> str:
    """The latest code the primary's pool e-mailed `username`."""
    pool_id = pool_config(PRIMARY).pool_id
    log = emulators[PRIMARY].log_path.read_text(errors="replace")
    codes = re.findall(rf"cognito-idp confirmation code {pool_id} {username} (\d{{6}})", log)
    assert codes, f"no code e-mailed to {username}"
    return codes[-1]


def status_of(region: str, username: str) -> str | None:
    try:
        user = aws_client("cognito-idp", region).admin_get_user(
            UserPoolId=pool_config(region).pool_id, Username=username
        )
    except aws_client("cognito-idp", region).exceptions.UserNotFoundException:
        return None
    return user["UserStatus"]


def confirm(browser_client, **data):
    return browser_client.post(
        "/accounts/confirm/",
        {**data, "csrfmiddlewaretoken": browser_client.cookies["csrftoken"].value},
    )


def test_sign_up_asks_for_the_emailed_code_then_signs_in_in_both_regions(
    aws, emulators, browser_client
):
    signed_up = post_form(
        browser_client,
        "/accounts/signup/",
        {"username": "frank", "email": "frank@example.com", "password": PASSWORD},
    )
    assert signed_up.status_code == 302
    assert signed_up["Location"] == "/accounts/confirm/?username=frank"
    assert ACCESS_COOKIE not in signed_up.cookies
    page = browser_client.get(signed_up["Location"]).content.decode()
    assert "We sent a 6-digit code to f***@e***" in page
    assert 'autocomplete="one-time-code"' in page and 'value="frank"' in page
    assert status_of(PRIMARY, "frank") == "UNCONFIRMED"
    assert status_of(SECONDARY, "frank") is None

    # Leaving and coming back: signing in leads to the code page.
    later = post_form(
        browser_client, "/accounts/login/", {"username": "frank", "password": PASSWORD}
    )
    assert later.status_code == 302
    assert later["Location"] == "/accounts/confirm/?username=frank"
    assert "Confirm your e-mail address" in browser_client.get(later["Location"]).content.decode()

    wrong = confirm(browser_client, username="frank", code="000000", password=PASSWORD)
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.content.decode()
    code = emailed_code(emulators, "frank")
    mistyped = confirm(browser_client, username="frank", code=code, password="Wrong-pass-42")
    assert mistyped.status_code == 400
    assert "Incorrect username or password." in mistyped.content.decode()
    assert status_of(PRIMARY, "frank") == "UNCONFIRMED"  # the code is still good

    done = confirm(browser_client, username="frank", code=code, password=PASSWORD)
    assert done.status_code == 302
    assert done.cookies[ACCESS_COOKIE]["httponly"]
    # A refresh token of each pool, so the session survives either region.
    assert done.cookies[refresh_cookie(PRIMARY)].value
    assert done.cookies[refresh_cookie(SECONDARY)].value
    assert "frank" in browser_client.get("/").content.decode()
    assert status_of(PRIMARY, "frank") == status_of(SECONDARY, "frank") == "CONFIRMED"
    assert cognito.sign_in(region=SECONDARY, username="frank", password=PASSWORD)


def test_a_replaced_code_has_expired_and_wrong_codes_are_limited(aws, emulators, browser_client):
    post_form(
        browser_client,
        "/accounts/signup/",
        {"username": "gina", "email": "gina@example.com", "password": PASSWORD},
    )
    first = emailed_code(emulators, "gina")
    resent = confirm(browser_client, username="gina", action="resend")
    assert resent.status_code == 302
    assert (
        "We sent a new code to g***@e***" in browser_client.get(resent["Location"]).content.decode()
    )
    assert emailed_code(emulators, "gina") != first

    expired = confirm(browser_client, username="gina", code=first, password=PASSWORD)
    assert expired.status_code == 400
    assert "That code has expired. Send a new code" in expired.content.decode()
    for _ in range(4):
        assert (
            confirm(browser_client, username="gina", code="123456", password=PASSWORD).status_code
            == 400
        )
    limited = confirm(browser_client, username="gina", code="123456", password=PASSWORD)
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert "Too many attempts" in limited.content.decode()
    assert status_of(PRIMARY, "gina") == "UNCONFIRMED"


def test_the_code_page_refuses_what_it_cannot_use(aws, make_user, browser_client):
    make_user("hana", PASSWORD)
    browser_client.get("/accounts/confirm/")
    malformed = confirm(browser_client, username="hana", code="12ab", password=PASSWORD)
    assert malformed.status_code == 400
    assert "The code is the 6 digits" in malformed.content.decode()
    missing = confirm(browser_client, username="hana", code="", password="")
    assert "Enter the code from the e-mail" in missing.content.decode()
    assert "Enter your password." in missing.content.decode()
    already = confirm(browser_client, username="hana", action="resend")
    assert already.status_code == 400
    assert "confirmed already" in already.content.decode()
    nobody = confirm(browser_client, username="nobody", action="resend")
    assert nobody.status_code == 400
    assert "No account is waiting" in nobody.content.decode()
