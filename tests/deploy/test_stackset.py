"""deploy/stackset.py: the template's key follows its content, and waiting on
the StackSet ends only on success, against a client that answers as
CloudFormation's StackSet API does."""

from datetime import UTC, datetime, timedelta

import pytest

from deploy import stackset

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_changed_template_gets_a_new_key(tmp_path):
    template = tmp_path / "regional.yaml"
    template.write_text("Resources: {}\n")
    first = stackset.template_key(template)
    assert first == stackset.template_key(template)
    template.write_text("Resources: {A: {}}\n")
    second = stackset.template_key(template)
    assert first != second
    for key in (first, second):
        assert key.startswith("regional-") and key.endswith(".yaml") and len(key) == 9 + 12 + 5


class FakeStackSets:
    """Operations move through the given statuses, one per poll."""

    def __init__(self, statuses: list[str], instances: list[dict], reason: str = ""):
        self.statuses = statuses
        self.instances = instances
        self.reason = reason
        self.polls = 0

    def _status(self) -> str:
        return self.statuses[min(self.polls - 1, len(self.statuses) - 1)]

    def list_stack_set_operations(self, **kwargs):
        assert kwargs["StackSetName"] == "mra-regional"
        old = {"OperationId": "op-1", "Action": "CREATE", "Status": "SUCCEEDED"}
        new = {"OperationId": "op-2", "Action": "UPDATE", "Status": self._status()}
        if "NextToken" not in kwargs:  # two pages, the newest on the second
            self.polls += 1
            return {"Summaries": [{**old, "CreationTimestamp": T0}], "NextToken": "p2"}
        return {"Summaries": [{**new, "CreationTimestamp": T0 + timedelta(hours=1)}]}

    def describe_stack_set_operation(self, StackSetName, OperationId):
        assert OperationId == "op-2"
        operation = {"OperationId": OperationId, "Action": "UPDATE", "Status": self._status()}
        if self.reason:
            operation["StatusReason"] = self.reason
        return {"StackSetOperation": operation}

    def list_stack_instances(self, StackSetName):
        return {"Summaries": self.instances}


CURRENT = {"Status": "CURRENT", "StackInstanceStatus": {"DetailedStatus": "SUCCEEDED"}}


def _wait(fake, **kwargs):
    slept: list[float] = []
    result = stackset.wait(
        fake, "mra-regional", interval=15, sleep=slept.append, log=lambda _: None, **kwargs
    )
    return result, slept


def test_wait_polls_until_the_operation_succeeded_everywhere():
    fake = FakeStackSets(
        ["QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"],
        [{"Region": "us-east-1", **CURRENT}, {"Region": "us-west-2", **CURRENT}],
    )
    operation, slept = _wait(fake)
    assert operation["OperationId"] == "op-2" and operation["Status"] == "SUCCEEDED"
    assert slept == [15, 15, 15]


def test_a_failed_operation_fails_with_the_region_and_reason():
    fake = FakeStackSets(
        ["RUNNING", "FAILED"],
        [
            {"Region": "us-east-1", **CURRENT},
            {
                "Region": "us-west-2",
                "Status": "OUTDATED",
                "StackInstanceStatus": {"DetailedStatus": "FAILED"},
                "StatusReason": "Resource handler returned message: AccessDenied",
            },
        ],
        reason="Failure tolerance exceeded",
    )
    with pytest.raises(stackset.OperationFailed) as raised:
        _wait(fake)
    message = str(raised.value)
    assert "UPDATE op-2 FAILED (Failure tolerance exceeded)" in message
    assert "us-west-2: OUTDATED FAILED Resource handler returned message: AccessDenied" in message
    assert "us-east-1" not in message


def test_an_outdated_instance_fails_even_after_a_succeeded_operation():
    fake = FakeStackSets(
        ["SUCCEEDED"],
        [{"Region": "us-west-2", "Status": "OUTDATED", "StackInstanceStatus": {}}],
    )
    with pytest.raises(stackset.OperationFailed, match="us-west-2: OUTDATED"):
        _wait(fake)


def test_wait_gives_up_at_its_timeout():
    now = [0.0]
    fake = FakeStackSets(["RUNNING"], [])

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(stackset.OperationFailed, match="still running after 60 s: op-2 RUNNING"):
        stackset.wait(
            fake,
            "mra-regional",
            timeout=60,
            interval=15,
            sleep=sleep,
            clock=lambda: now[0],
            log=lambda _: None,
        )
