"""Django's own answers under /api/ are JSON; every page carries the Content-Security-Policy."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.views import defaults

from accounts.cookies import ACCESS_COOKIE
from mra_site import urls, views
from mra_site.aws import cognito
from mra_site.aws.clients import client as aws_client
from mra_site.resources import media_bucket
from tests.conftest import PRIMARY
from tests.photos.conftest import image_bytes, stored_keys, upload_file

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def assert_strict_policy(response) -> dict[str, list[str]]:
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    return directives


def inline_scripts(html: str) -> list[str]:
    """Inline <script> tags that a browser would run (not JSON data, not src=)."""
    return [
        tag
        for tag in re.findall(r"<script\b[^>]*>", html, re.IGNORECASE)
        if "src=" not in tag and 'type="application/json"' not in tag
    ]


@pytest.mark.parametrize("path", ["/api/nope", "/api/photos/x/y", "/api/state/history/x"])
def test_an_unknown_api_path_answers_json_404(path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"
    assert path in response.json()["detail"]
    assert response["X-MRA-Region"] == settings.MRA_REGION


def test_a_wrong_method_on_the_api_answers_json_405_with_allow():
    # Every route under /api/ is a DRF view: its 405 comes from the API's handler.
    response = Client().get("/api/auth/token")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert "POST" in response["Allow"]
    assert response["X-MRA-Region"] == settings.MRA_REGION


def test_an_unknown_page_answers_the_html_404_with_the_policy():
    response = Client().get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Not found" in response.content.decode()
    assert response["X-MRA-Region"] == settings.MRA_REGION
    assert_strict_policy(response)


def test_the_server_error_handler_answers_json_under_api_and_the_page_elsewhere():
    assert urls.handler500 is views.server_error
    api = views.server_error(RequestFactory().get("/api/photos"))
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json"
    assert b'"error": "server_error"' in api.content
    page = views.server_error(RequestFactory().get("/photos/x/"))
    assert page.status_code == 500
    assert b"Something went wrong" in page.content


def test_an_error_page_that_cannot_render_still_answers_its_status(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("template fails")

    monkeypatch.setattr(defaults, "page_not_found", broken)
    monkeypatch.setattr(defaults, "server_error", broken)
    assert Client().get("/nope/").status_code == 404
    assert views.server_error(RequestFactory().get("/")).status_code == 500


def test_pages_without_aws_carry_the_policy_with_the_regional_sites():
    for path in ("/accounts/login/", "/accounts/signup/", "/upload/"):
        response = Client().get(path, follow=True)
        assert response.status_code == 200, path
        directives = assert_strict_policy(response)
        for url in settings.MRA_REGION_URLS.values():
            assert url in directives["connect-src"]
            assert url in directives["form-action"]
        assert not inline_scripts(response.content.decode())


def test_media_sources_follow_the_deployment(settings):
    settings.MRA_AWS_ENDPOINTS = {"us-east-1": "http://127.0.0.1:4566/", "us-west-2": ""}
    settings.MRA_REGION_URLS = {
        "us-east-1": "https://east.example",
        "us-west-2": "https://w.example",
    }
    directives = policy(Client().get("/accounts/login/"))
    assert directives["img-src"][0] == "'self'"
    assert "http://127.0.0.1:4566" in directives["img-src"]
    assert "https://mra-media-us-west-2.s3.us-west-2.amazonaws.com" in directives["img-src"]
    assert directives["connect-src"] == ["'self'", "https://east.example", "https://w.example"]
    settings.MRA_MEDIA_DOMAIN = "https://media.example/photos"
    directives = policy(Client().get("/accounts/login/"))
    assert directives["img-src"] == ["'self'", "blob:", "https://media.example"]


def test_the_api_docs_run_swagger_ui_without_inline_script_or_style():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    directives = assert_strict_policy(response)
    html = response.content.decode()
    assert not inline_scripts(html) and "<style" not in html
    assert "data:" in directives["img-src"]
    script = Client().get("/api/docs/", {"script": ""})
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_no_template_has_inline_script_event_handler_or_style():
    offenders = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        if inline_scripts(text) or re.search(r"<style\b|\s(style|on[a-z]+)\s*=", text, re.I):
            offenders.append(str(template.relative_to(TEMPLATES)))
    assert offenders == []


def test_gallery_photo_and_console_pages_carry_the_policy(aws, make_user):
    make_user("olga", "Correct-horse-1", operator=True)
    tokens = cognito.sign_in(region=PRIMARY, username="olga", password="Correct-horse-1")
    olga = Client()
    olga.cookies[ACCESS_COOKIE] = tokens.access_token
    created = Client(headers={"Authorization": f"Bearer {tokens.access_token}"}).post(
        "/api/photos", {"title": "csp", "image": upload_file(image_bytes())}
    )
    assert created.status_code == 201
    for path in ("/", f"/photos/{created.json()['id']}/", "/console/", "/me/"):
        response = olga.get(path)
        assert response.status_code == 200, path
        directives = assert_strict_policy(response)
        for endpoint in settings.MRA_AWS_ENDPOINTS.values():
            assert endpoint.rstrip("/") in directives["img-src"]
        assert not inline_scripts(response.content.decode())


@pytest.mark.browser
def test_chromium_reports_no_policy_violation_on_the_pages_and_the_api_docs(
    aws, make_user, sites, page
):
    make_user("alice", "Correct-horse-1")
    tokens = cognito.sign_in(region=PRIMARY, username="alice", password="Correct-horse-1")
    created = Client(headers={"Authorization": f"Bearer {tokens.access_token}"}).post(
        "/api/photos", {"title": "csp", "image": upload_file(image_bytes())}
    )
    assert created.status_code == 201
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    site = sites[PRIMARY].url
    page.goto(f"{site}/photos/{created.json()['id']}/")
    assert page.locator("main img").first.evaluate("img => img.naturalWidth") > 0
    page.goto(f"{site}/")

    # Media missing in this region: the page's script shows the placeholder.
    bucket = media_bucket(PRIMARY)
    for key in stored_keys(PRIMARY):
        aws_client("s3", PRIMARY).delete_object(Bucket=bucket, Key=key)
    page.goto(f"{site}/photos/{created.json()['id']}/")
    page.locator("main img.pending").wait_for(state="visible")
    page.goto(f"{site}/")
    page.locator("[data-photo-grid] img.pending").first.wait_for(state="visible")

    page.goto(f"{site}/api/docs/")
    page.get_by_text("/api/photos").first.wait_for(state="visible")
    assert violations == []
