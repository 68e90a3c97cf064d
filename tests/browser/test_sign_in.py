import pytest
from django.conf import settings

from tests.conftest import PRIMARY, SECONDARY

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("region", [PRIMARY, SECONDARY])
def test_demo_user_signs_in_on_each_regions_site(aws, make_user, sites, page, region):
    make_user(settings.MRA_DEMO_USERNAME, settings.MRA_DEMO_PASSWORD)
    site = sites[region].url
    page.goto(f"{site}/")
    assert page.locator(".region-pill").inner_text().strip() == region
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(settings.MRA_DEMO_USERNAME)
    page.get_by_label("Password").fill("not-the-password-1A")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Incorrect username or password."
    page.get_by_label("Password").fill(settings.MRA_DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/")
    assert page.get_by_test_id("header-user").inner_text() == settings.MRA_DEMO_USERNAME
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["mra_access"]["httpOnly"]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site}/")
    assert page.get_by_role("banner").get_by_role("link", name="Sign in").is_visible()
