import pytest
from django.test import Client

from routing.selectors import routing_history_list
from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import drain, move, replica_states


def signed_in(username: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {
            "username": username,
            "password": "Correct-horse-1",
            "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302
    return client


@pytest.fixture
def operator(aws, tokens) -> Client:
    return signed_in("olga")


def submit(client: Client, data: dict):
    page = client.get("/console/")
    token = client.cookies["csrftoken"].value
    response = client.post("/console/", {**data, "csrfmiddlewaretoken": token}, follow=True)
    assert response.redirect_chain == [("/console/", 302)]
    assert page.status_code == 200
    return response.content.decode()


def test_console_is_for_operators_only(aws, tokens):
    anonymous = Client().get("/console/")
    assert anonymous.status_code == 403
    assert "Sign in with an account that may open this page." in anonymous.content.decode()
    member = signed_in("mike").get("/console/")
    assert member.status_code == 403
    assert "Your account, mike, does not have the right" in member.content.decode()
    assert "Fence" not in member.content.decode()
    post = signed_in("mike")
    post.get("/accounts/login/")
    refused = post.post(
        "/console/",
        {
            "state": "fenced",
            "expected_version": 1,
            "reason": "x",
            "csrfmiddlewaretoken": post.cookies["csrftoken"].value,
        },
    )
    assert refused.status_code == 403
    assert replica_states()[PRIMARY] == ("active", 1)


def test_console_shows_state_regions_lag_and_allowed_actions(aws, operator):
    page = operator.get("/console/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="console-version">1<' in html
    assert "Writable region</dt><dd>us-east-1" in html
    for region in (PRIMARY, SECONDARY):
        assert f'data-testid="region-{region}"' in html
        assert f'data-testid="lag-{region}">no heartbeat<' in html
    assert 'data-testid="action-fenced"' in html
    assert "Writes stop at once in every region" in html
    assert 'data-testid="action-failover"' not in html
    assert "No routing changes yet." in html


def test_fence_and_unfence_with_plain_form_posts(aws, operator):
    html = submit(operator, {"state": "fenced", "expected_version": 1, "reason": "deploy"})
    assert "State is now fenced (version 2)." in html
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}
    assert "Unfence: reopen us-east-1" in html
    # Locally nothing replicates yet: the failover is offered forced, with the reason why.
    assert "Fail over to us-west-2 (forced)" in html
    assert "locally that is the replicator" in html
    assert "What may be lost:" in html
    html = submit(operator, {"state": "active", "expected_version": 2, "reason": "done"})
    assert "State is now active (version 3)." in html
    events = routing_history_list(region=PRIMARY)
    assert [(e["actor"], e["to_state"], e["reason"]) for e in events] == [
        ("olga", "active", "done"),
        ("olga", "fenced", "deploy"),
    ]
    assert "deploy" in html and "olga" in html


def test_forced_failover_needs_the_typed_confirmation(aws, operator):
    move(RoutingState.FENCED, 1)
    data = {"state": "failover", "expected_version": 2, "reason": "primary lost", "force": "on"}
    html = submit(operator, {**data, "confirm": "yes"})
    assert "Not forced: type us-west-2" in html
    assert replica_states()[SECONDARY] == ("fenced", 2)
    html = submit(operator, {**data, "confirm": "us-west-2"})
    assert "State is now failover (version 3)." in html
    assert "Possibly lost:" in html
    assert replica_states() == {PRIMARY: ("failover", 3), SECONDARY: ("failover", 3)}


def test_unforced_failover_is_refused_until_drained(aws, operator, no_settle):
    move(RoutingState.FENCED, 1)
    data = {"state": "failover", "expected_version": 2, "reason": "planned"}
    html = submit(operator, data)
    assert "Refused (not_drained)" in html
    drain(source=PRIMARY, target=SECONDARY)
    page = operator.get("/console/").content.decode()
    assert "<h3>Fail over to us-west-2</h3>" in page
    assert "holds everything us-east-1 wrote before the fence" in page
    html = submit(operator, data)
    assert "State is now failover (version 3)." in html


def test_stale_form_is_a_version_conflict(aws, operator):
    move(RoutingState.FENCED, 1)
    html = submit(operator, {"state": "active", "expected_version": 1, "reason": "old tab"})
    assert "Refused (version_conflict)" in html
    assert "Reload and decide again." in html


def test_missing_reason_changes_nothing(aws, operator):
    html = submit(operator, {"state": "fenced", "expected_version": 1, "reason": " "})
    assert "Say why" in html
    assert replica_states()[PRIMARY] == ("active", 1)
