"""URLs the site builds for AWS, in real-AWS mode (empty endpoints): presigning
needs credentials but no request, so dummy ones do."""

from urllib.parse import urlsplit

import pytest

from mra_site.aws.clients import clear_client_cache
from mra_site.csp import deployment_sources
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
    # The middleware puts these in img-src (tests/mra_site/test_http.py).
    assert deployment_sources()["img-src"] == expected
