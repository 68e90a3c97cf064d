import pytest
from rest_framework.test import APIClient

from mra_site.polling import poll
from tests.conftest import PRIMARY, SECONDARY, registered_user
from tests.replication.helpers import REPLICATED
from tests.tokens import claims_for, sign


@pytest.fixture
def api():
    return APIClient()


def bearer(*, operator: bool) -> str:
    groups = ["operators"] if operator else []
    claims = claims_for(PRIMARY, **{"cognito:groups": groups})
    registered_user(claims["username"], subs={PRIMARY: claims["sub"]})
    return "Bearer " + sign(claims)


def test_status_requires_an_operator(aws, state_dir, api):
    anonymous = api.get("/api/replication")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    member = api.get("/api/replication", HTTP_AUTHORIZATION=bearer(operator=False))
    assert member.status_code == 403
    assert member.json()["error"] == "permission_denied"


def test_status_reports_each_direction_and_dataset(replicator, api):

    def running():
        body = api.get("/api/replication", HTTP_AUTHORIZATION=bearer(operator=True)).json()
        return body if body["running"] else None

    body = poll(running, what="a fresh status", timeout=REPLICATED)
    west = body["directions"][f"{SECONDARY}-to-{PRIMARY}"]
    assert set(west["datasets"]) == {"state", "audit", "canary", "photos", "users", "media"}
    photos = west["datasets"]["photos"]
    for field in ("lag_p50_seconds", "lag_p99_seconds", "pending", "last_applied_at", "last_error"):
        assert field in photos
    assert body["controls"][f"{PRIMARY}-to-{SECONDARY}"]["paused"] is False
    assert set(body["canary"]) == {PRIMARY, SECONDARY}
