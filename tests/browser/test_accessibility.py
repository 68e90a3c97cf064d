"""axe-core over every page at laptop and phone width: no serious or critical violation.

Each page is loaded once and scanned at both widths (the layout is responsive
CSS, the server sends the same page); a screenshot of each width is saved.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from photos import services
from tests.conftest import PRIMARY
from tests.photos.conftest import image_bytes, upload_file

pytestmark = pytest.mark.browser

PASSWORD = "Correct-horse-1"
WIDTHS = {"laptop": (1366, 800), "phone": (390, 844)}
BLOCKING = {"serious", "critical"}
# axe-core as axe-playwright-python bundles it, run at each width.
AXE_SOURCE = Axe().axe_script
AXE_RUN = "() => axe.run(document, { resultTypes: ['violations'] })"
# Visited before signing in, then after it (as an operator).
ANONYMOUS = {
    "gallery": "/",
    "photo": "/photos/{photo}/",
    "sign-in": "/accounts/login/",
    "sign-up": "/accounts/signup/",
    "confirm": "/accounts/confirm/?username=olga",
    "api-docs": "/api/docs/",
    "not-found": "/no-such-page/",
}
SIGNED_IN = {
    "upload": "/upload/",
    "my-photos": "/me/",
    "console": "/console/",
}


def violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is laid out now."""
    results = page.evaluate(AXE_RUN)
    return [
        f"{violation['id']} ({violation['impact']}) at {', '.join(map(str, node['target']))}: "
        f"{violation['help']}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


def test_every_page_passes_axe_at_both_widths(aws, make_user, sites, browser, artifacts_dir):
    make_user("olga", PASSWORD, operator=True)
    photo = services.photo_create(
        owner="olga", owner_id="id-olga", title="Harbour at dusk", upload=upload_file(image_bytes())
    )
    site = sites[PRIMARY].url
    found: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    context.set_default_timeout(30000)
    # In every page before its own scripts: one parse of axe-core a page, no CSP in the way.
    context.add_init_script(script=AXE_SOURCE)
    page = context.new_page()

    def scan(name: str, path: str) -> None:
        response = page.goto(site + path.format(photo=photo.id))
        assert response is not None
        assert response.status == (404 if name == "not-found" else 200), (name, response.status)
        if name == "api-docs":
            page.locator(".opblock").first.wait_for()
        # The width the page was left at first, then the other: one resize a page.
        current = page.viewport_size
        for width_name, (width, height) in sorted(
            WIDTHS.items(), key=lambda item: item[1][0] != (current or {}).get("width")
        ):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=str(artifacts_dir / f"a11y-{name}-{width_name}.png"))
            found.extend(f"{name} {width_name}: {finding}" for finding in violations(page))

    try:
        for name, path in ANONYMOUS.items():
            scan(name, path)
        page.goto(f"{site}/accounts/login/?next=/console/")
        page.get_by_label("Username").fill("olga")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{site}/console/")
        for name, path in SIGNED_IN.items():
            scan(name, path)
    finally:
        context.close()
    assert not found, "\n".join(found)
