"""A routing change whose write went unanswered says what happened: changed, refused or
unknown, in its answer and in the audit log; never `refused` for a change that committed.

The fakes wrap the real put to the emulated region: the write really commits (or
really does not), and only its answer is replaced by what a timeout or a retried
put would give."""

import os
import signal
import threading

import pytest

from mra_site.aws.errors import ConditionFailed, RegionUnavailable
from routing import transitions
from routing.selectors import routing_history_list
from routing.states import RoutingState
from routing.transitions import TransitionUnknown, outcome_of
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import move, replica_states
from tests.routing.test_api import post_state
from tests.routing.test_console import signed_in, submit

ACTIVE, FENCED = RoutingState.ACTIVE, RoutingState.FENCED


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ({"version": 1, "write_id": "old"}, "pending"),
        ({"version": 2, "write_id": "ours"}, "changed"),
        ({"version": 2, "write_id": "theirs"}, "refused"),
        ({"version": 2}, "refused"),
        ({"version": 3, "write_id": "next", "previous_write_id": "ours"}, "changed"),
        ({"version": 3, "write_id": "next", "previous_write_id": "theirs"}, "refused"),
        ({"version": 4, "write_id": "later", "previous_write_id": "next"}, "unknown"),
    ],
)
def test_outcome_is_judged_from_the_state_read_again(found, expected):
    assert outcome_of(found, attempted_version=2, write_id="ours") == expected


def answer_lost(monkeypatch, error: Exception, *, commit: bool = True) -> None:
    """The authority's first state put commits (or not) and answers with `error`."""
    real = transitions.item_put
    calls = []

    def put(**kwargs):
        calls.append(kwargs)
        if len(calls) > 1:
            return real(**kwargs)
        if commit:
            real(**kwargs)
        raise error

    monkeypatch.setattr(transitions, "item_put", put)


def reread_fails(monkeypatch) -> None:
    """Reading the state again gets no answer either (one try, not the breaker's wait)."""
    monkeypatch.setattr(transitions, "reread_seconds", lambda: 0)

    def read(*, region):
        raise RegionUnavailable("read routing state: frozen", region=region)

    monkeypatch.setattr(transitions, "state_item_read", read)


def transitions_logged() -> list[dict]:
    """The primary's audit log, oldest first."""
    return list(reversed(routing_history_list(region=PRIMARY)))


@pytest.mark.parametrize(
    "error",
    [
        RegionUnavailable("change routing state: read timeout", region=PRIMARY),
        ConditionFailed("change routing state: ConditionalCheckFailedException", region=PRIMARY),
    ],
    ids=["timeout", "retry-refused-by-its-own-commit"],
)
def test_a_committed_change_whose_answer_was_lost_is_reported_changed(aws, monkeypatch, error):
    answer_lost(monkeypatch, error)

    result = move(FENCED, 1)

    assert result.record.state is FENCED and result.record.version == 2
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}
    [event] = transitions_logged()
    assert event["outcome"] == "changed"
    assert event["version"] == 2 and event["expected_version"] == 1
    assert event["found_version"] == 2
    assert event["write_id"] == result.record.write_id


def test_a_put_that_did_not_commit_is_sent_again_and_changes_once(aws, monkeypatch):
    answer_lost(monkeypatch, RegionUnavailable("read timeout", region=PRIMARY), commit=False)

    result = move(FENCED, 1)

    assert result.record.version == 2
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}
    assert [(e["outcome"], e.get("version")) for e in transitions_logged()] == [("changed", 2)]


def test_an_unknown_outcome_is_audited_then_resolved_by_the_next_attempt(aws, monkeypatch):
    answer_lost(monkeypatch, RegionUnavailable("read timeout", region=PRIMARY))
    reread_fails(monkeypatch)

    with pytest.raises(TransitionUnknown) as info:
        move(FENCED, 1)

    assert info.value.status == 503 and info.value.found_version is None
    [unknown] = transitions_logged()
    assert unknown["outcome"] == "unknown"
    assert unknown["attempted_version"] == 2 and unknown["found_version"] is None

    monkeypatch.undo()
    move(ACTIVE, 2)

    events = transitions_logged()
    assert [(e["outcome"], e.get("version")) for e in events] == [
        ("unknown", None),
        ("changed", 2),
        ("changed", 3),
    ]
    assert events[1]["resolves"] == unknown["event_id"]
    assert events[1]["detail"].startswith("resolved: changed at version 2")
    assert not [e for e in events if e["outcome"] == "refused"]


def test_the_api_says_the_outcome_is_unknown_with_the_version_found(
    aws, client, tokens, monkeypatch
):
    answer_lost(monkeypatch, RegionUnavailable("read timeout", region=PRIMARY))
    reread_fails(monkeypatch)

    response = post_state(
        client,
        {"state": "fenced", "expected_version": 1, "reason": "maintenance"},
        tokens["operator"],
    )

    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.json()
    assert body["error"] == "outcome_unknown" and body["version"] is None
    assert "may or may not" in body["detail"]


@pytest.mark.slow
def test_a_fence_committed_by_a_frozen_region_after_its_timeout_is_audited_changed(
    aws, monkeypatch, settings
):
    """The reproduction: the primary's emulator freezes as the fence is sent and resumes
    after the first attempt timed out; it commits the first attempt and refuses botocore's
    retry by its own compare-and-set. The answer and the audit say changed."""
    settings.MRA_AWS_READ_TIMEOUT = 1.0
    settings.MRA_AWS_REGION_COOLDOWN = 0.5
    group = aws[PRIMARY].proc.pid
    real = transitions.item_put
    thaw = threading.Timer(1.5, os.killpg, (group, signal.SIGCONT))

    def put_while_frozen(**kwargs):
        os.killpg(group, signal.SIGSTOP)
        thaw.start()
        return real(**kwargs)

    monkeypatch.setattr(transitions, "item_put", put_while_frozen)
    try:
        result = move(FENCED, 1)
    finally:
        thaw.cancel()
        os.killpg(group, signal.SIGCONT)

    assert result.record.state is FENCED and result.record.version == 2
    assert replica_states() == {PRIMARY: ("fenced", 2), SECONDARY: ("fenced", 2)}
    assert [(e["outcome"], e.get("version")) for e in transitions_logged()] == [("changed", 2)]


def test_the_console_says_the_outcome_is_unknown(aws, tokens, monkeypatch):
    console = signed_in("olga")
    answer_lost(monkeypatch, RegionUnavailable("read timeout", region=PRIMARY))
    reread_fails(monkeypatch)

    html = submit(console, {"state": "fenced", "expected_version": 1, "reason": "deploy"})

    assert "Outcome unknown (version found: unknown)" in html
    assert "the change may or may not have been made" in html
    assert "Refused" not in html
