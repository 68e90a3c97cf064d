import pytest
from django.test import Client

from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import move, replica_states

STATE_FIELDS = {
    "app_id",
    "state",
    "version",
    "writable_region",
    "primary_region",
    "secondary_region",
    "serving_region",
    "regions",
    "updated_at",
}
# Who changed the state and why: operators only.
OPERATOR_FIELDS = {"updated_by", "reason"}


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post_state(client: Client, body: dict, token: str | None = None):
    headers = bearer(token) if token else {}
    return client.post("/api/state", body, content_type="application/json", **headers)


def test_state_is_public_with_the_design_fields(aws, client, settings):
    response = client.get("/api/state")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == STATE_FIELDS
    assert body["state"] == "active" and body["version"] == 1
    assert body["writable_region"] == PRIMARY
    assert body["serving_region"] == PRIMARY
    assert body["regions"] == {
        PRIMARY: {"url": settings.MRA_REGION_URLS[PRIMARY], "role": "primary"},
        SECONDARY: {"url": settings.MRA_REGION_URLS[SECONDARY], "role": "secondary"},
    }
    cache = dict(
        part.strip().split("=") for part in response["Cache-Control"].split(",") if "=" in part
    )
    assert int(cache["max-age"]) <= 1


def test_state_comes_from_the_serving_regions_replica(aws, client, region):
    region(SECONDARY)
    body = client.get("/api/state").json()
    assert body["serving_region"] == SECONDARY
    assert body["writable_region"] == PRIMARY


def test_state_allows_the_other_regional_site_only(aws, client, settings):
    other = settings.MRA_REGION_URLS[SECONDARY]
    allowed = client.get("/api/state", HTTP_ORIGIN=other)
    assert allowed["Access-Control-Allow-Origin"] == other
    foreign = client.get("/api/state", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in foreign
    history = client.get("/api/state/history", HTTP_ORIGIN=other)
    assert "Access-Control-Allow-Origin" not in history


def test_change_needs_a_token(aws, client):
    response = post_state(client, {"state": "fenced", "expected_version": 1, "reason": "x"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "not_authenticated"
    history = client.get("/api/state/history")
    assert history.status_code == 401 and history["WWW-Authenticate"].startswith("Bearer")


def test_change_needs_an_operator(aws, client, tokens):
    body = {"state": "fenced", "expected_version": 1, "reason": "x"}
    response = post_state(client, body, tokens["member"])
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert client.get("/api/state/history", **bearer(tokens["member"])).status_code == 403
    assert replica_states()[PRIMARY] == ("active", 1)


def test_operator_fences_and_sees_history(aws, client, tokens):
    response = post_state(
        client,
        {"state": "fenced", "expected_version": 1, "reason": "maintenance"},
        tokens["operator"],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "fenced" and body["version"] == 2
    assert body["writable_region"] is None
    assert body["updated_by"] == "olga" and body["reason"] == "maintenance"
    assert client.get("/api/state").json()["version"] == 2

    post_state(
        client, {"state": "active", "expected_version": 1, "reason": "y"}, tokens["operator"]
    )
    history = client.get("/api/state/history", **bearer(tokens["operator"])).json()["results"]
    assert [(e["to_state"], e["outcome"]) for e in history] == [
        ("active", "refused"),
        ("fenced", "changed"),
    ]


@pytest.mark.parametrize(
    ("setup", "body", "error"),
    [
        ([], {"state": "fenced", "expected_version": 7}, "version_conflict"),
        ([], {"state": "failover", "expected_version": 1}, "invalid_transition"),
        ([RoutingState.FENCED], {"state": "failover", "expected_version": 2}, "not_drained"),
    ],
)
def test_refusals_are_409_with_a_code(aws, client, tokens, setup, body, error):
    version = 1
    for target in setup:
        version = move(target, version).record.version
    response = post_state(client, {**body, "reason": "x"}, tokens["operator"])
    assert response.status_code == 409
    assert response.json()["error"] == error
    assert response.json()["detail"]


def test_forced_failover_through_the_api_reports_the_risk(aws, client, tokens):
    move(RoutingState.FENCED, 1)
    response = post_state(
        client,
        {"state": "failover", "expected_version": 2, "reason": "primary lost", "force": True},
        tokens["operator"],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["writable_region"] == SECONDARY and body["forced"] is True
    assert "holds no heartbeat" in body["at_risk"]["summary"]
    assert body["at_risk"]["since"] is None  # no heartbeat: every write is at risk
    assert body["at_risk"]["source_region"] == PRIMARY


def test_bad_bodies_are_400(aws, client, tokens):
    response = post_state(
        client, {"state": "paused", "expected_version": "one"}, tokens["operator"]
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"state", "expected_version", "reason"}


def test_banner_on_every_page_follows_the_state(aws, client, region):
    page = client.get("/accounts/login/").content.decode()
    assert 'id="routing-banner"' in page
    assert 'class="routing-banner open quiet"' in page
    assert "js/state.js" in page
    move(RoutingState.FENCED, 1)
    page = client.get("/accounts/login/").content.decode()
    assert "Uploads and comments are paused for a moment." in page
    move(RoutingState.FAILOVER, 2, force=True)
    region(PRIMARY)
    page = client.get("/accounts/login/").content.decode()
    assert (
        "This address only shows photos for now; uploads and comments are taken on us-west-2."
        in page
    )


def test_responses_match_the_published_schema(aws, client, tokens):
    from tests.photos.schema import ApiSchema

    schema = ApiSchema(client)
    schema.check("GET", "/api/state", client.get("/api/state"))
    body = {"state": "fenced", "expected_version": 1, "reason": "schema"}
    schema.check("POST", "/api/state", post_state(client, body, tokens["operator"]))
    schema.check("POST", "/api/state", post_state(client, body, tokens["operator"]))
    schema.check("POST", "/api/state", post_state(client, body, tokens["member"]))
    forced = {"state": "failover", "expected_version": 2, "reason": "schema", "force": True}
    schema.check("POST", "/api/state", post_state(client, forced, tokens["operator"]))
    history = client.get("/api/state/history", **bearer(tokens["operator"]))
    assert len(history.json()["results"]) == 3
    schema.check("GET", "/api/state/history", history)


def test_a_region_without_a_state_record_says_how_to_fix_it(aws, client):
    from mra_site.aws.clients import dynamodb_table
    from mra_site.resources import table_name

    dynamodb_table(PRIMARY, table_name("state")).delete_item(Key={"app_id": "mra"})
    response = client.get("/api/state")
    assert response.status_code == 503
    assert response.json()["error"] == "state_missing"
    assert "mra_bootstrap" in response.json()["detail"]


def test_only_operators_see_who_changed_the_state_and_why(aws, client, tokens):
    post_state(
        client,
        {"state": "fenced", "expected_version": 1, "reason": "db migration, ticket 42"},
        tokens["operator"],
    )
    public = client.get("/api/state")
    assert set(public.json()) == STATE_FIELDS
    assert "ticket 42" not in public.content.decode()
    member = client.get("/api/state", **bearer(tokens["member"]))
    assert set(member.json()) == STATE_FIELDS
    forged = client.get("/api/state", **bearer("not-a-token"))
    assert forged.status_code == 200 and set(forged.json()) == STATE_FIELDS
    operator = client.get("/api/state", **bearer(tokens["operator"]))
    assert set(operator.json()) == STATE_FIELDS | OPERATOR_FIELDS
    assert operator.json()["reason"] == "db migration, ticket 42"
    assert operator["Cache-Control"].startswith("private")
    # Nor do the pages carry it in the state they embed for their script.
    assert "ticket 42" not in client.get("/").content.decode()
