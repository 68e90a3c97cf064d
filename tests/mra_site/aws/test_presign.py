"""URLs the site builds for AWS, in real-AWS mode (empty endpoints): presigning
needs credentials but no request, so dummy ones do."""

from urllib.parse import urlsplit

import pytest
from django.test import Client

from mra_site.aws.clients import clear_client_cache
from mra_site.csp import media_origins
from photos.media import media_url
from tests.conftest import PRIMARY, SECONDARY


@pytest.fixture
def real_aws(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    settings.MRA_AWS_ENDPOINTS = {PRIMARY: "", SECONDARY: ""}
    settings.MRA_MEDIA_BUCKET = "mra-media-{region}-123456789012"
    settings.MRA_MEDIA_DOMAIN = ""
    clear_client_cache()
    yield
    clear_client_cache()


@pytest.mark.parametrize("region", [PRIMARY, SECONDARY])
def test_presigned_media_urls_use_the_regional_virtual_hosted_name(real_aws, region):
    url = urlsplit(media_url(key="photos/abc/thumb.webp", region=region))
    assert url.scheme == "https"
    assert url.netloc == f"mra-media-{region}-123456789012.s3.{region}.amazonaws.com"
    assert url.path == "/photos/abc/thumb.webp"
    assert f"%2F{region}%2Fs3%2Faws4_request" in url.query  # signed for its region


def test_the_policy_allows_exactly_those_media_hosts_on_aws(real_aws):
    expected = [
        f"https://mra-media-{region}-123456789012.s3.{region}.amazonaws.com"
        for region in (PRIMARY, SECONDARY)
    ]
    assert media_origins() == expected
    header = Client().get("/accounts/login/")["Content-Security-Policy"]
    img_src = next(d for d in header.split(";") if d.strip().startswith("img-src")).split()
    assert [s for s in img_src if "amazonaws" in s] == expected
