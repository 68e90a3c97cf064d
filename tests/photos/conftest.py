"""Crafted image files and signed-in clients for the photo tests."""

import io
from collections.abc import Callable

import pytest
from django.test import Client
from PIL import Image

from accounts.cookies import ACCESS_COOKIE
from mra_site.aws import cognito
from mra_site.aws.clients import client as aws_client
from mra_site.resources import media_bucket
from tests.conftest import PRIMARY


def image_bytes(
    image_format: str = "JPEG",
    size: tuple[int, int] = (48, 32),
    color: tuple[int, ...] = (200, 80, 40),
    mode: str = "RGB",
    **save_options,
) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, format=image_format, **save_options)
    return out.getvalue()


def upload_file(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_keys(region: str = PRIMARY) -> list[str]:
    """Every key holding bytes in the region's media bucket (any version)."""
    versions = aws_client("s3", region).list_object_versions(Bucket=media_bucket(region))
    return sorted({v["Key"] for v in versions.get("Versions", [])})


@pytest.fixture
def api_client(make_user) -> Callable[..., Client]:
    """api_client("alice") -> a Client sending alice's Bearer token; api_client() -> anonymous."""

    def build(username: str | None = None, region: str = PRIMARY) -> Client:
        if username is None:
            return Client()
        password = "Correct-horse-1"
        make_user(username, password)
        tokens = cognito.sign_in(region=region, username=username, password=password)
        return Client(headers={"Authorization": f"Bearer {tokens.access_token}"})

    return build


@pytest.fixture
def page_client(make_user) -> Callable[..., Client]:
    """page_client("alice") -> a browser-like Client signed in by cookie, CSRF enforced."""

    def build(username: str, region: str = PRIMARY) -> Client:
        password = "Correct-horse-1"
        make_user(username, password)
        tokens = cognito.sign_in(region=region, username=username, password=password)
        browser = Client(enforce_csrf_checks=True)
        browser.cookies[ACCESS_COOKIE] = tokens.access_token
        return browser

    return build


def csrf_token(browser: Client, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200, response.content[:500]
    return browser.cookies["csrftoken"].value
