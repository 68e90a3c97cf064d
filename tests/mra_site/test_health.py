import pytest
import requests

from mra_site.polling import poll
from tests.conftest import PRIMARY, SECONDARY


def test_healthz_answers_without_aws(client, settings):
    settings.MRA_AWS_ENDPOINTS = {PRIMARY: "http://127.0.0.1:9", SECONDARY: "http://127.0.0.1:9"}
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "region": PRIMARY}


def test_readyz_is_ok_when_the_region_answers(aws, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {
        "s3:mra-media-us-east-1",
        "dynamodb:mra-state",
        "cognito:user-pool",
    }


def test_readyz_names_what_is_missing(aws, client):
    aws[PRIMARY].reset()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "s3:mra-media-us-east-1" in response.json()["detail"]


@pytest.mark.stops_region
def test_readyz_fails_only_in_the_region_whose_emulator_stopped(aws, client, region):
    aws[PRIMARY].stop()
    region(PRIMARY)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "unreachable in us-east-1" in response.json()["detail"]
    region(SECONDARY)
    assert client.get("/readyz").status_code == 200


@pytest.mark.stops_region
def test_a_site_keeps_serving_when_the_other_regions_emulator_stops(aws, sites):
    aws[PRIMARY].stop()
    secondary = sites[SECONDARY].url
    assert requests.get(f"{secondary}/readyz", timeout=15).status_code == 200
    page = requests.get(f"{secondary}/", timeout=15)
    assert page.status_code == 200
    assert "us-west-2" in page.text
    # The site answers /readyz from a cache a few seconds old.
    poll(
        lambda: requests.get(f"{sites[PRIMARY].url}/readyz", timeout=15).status_code == 503,
        timeout=30,
        what="the stopped region's /readyz failing",
    )
