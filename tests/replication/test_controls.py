import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mra_site.polling import poll
from replication.controls import replication_controls_get, replication_lag_mark
from replication.services import ControlRefused, replication_control_set
from replication.status import drain_check, replication_status_get
from routing.selectors import routing_history_list
from tests.conftest import PRIMARY, SECONDARY

from .helpers import REPLICATED, new_id, object_get, object_put, photo_get, photo_put, settle

EAST_TO_WEST = f"{PRIMARY}-to-{SECONDARY}"


def pending_toward(region: str) -> int:
    """Records and objects the replicator has read but not yet applied to `region`."""
    [status] = [s for s in replication_status_get()["directions"].values() if s["target"] == region]
    assert status["running"], status
    return sum(dataset["pending"] for dataset in status["datasets"].values())


def replication(*args) -> str:
    out = StringIO()
    call_command("replication", *args, stdout=out)
    return out.getvalue()


def test_pause_holds_one_direction_and_resume_catches_up(replicator):
    assert "paused" in replication("pause", "--direction", EAST_TO_WEST)
    held, passing = new_id(), new_id()
    photo_put(PRIMARY, held, "held back")
    object_put(PRIMARY, f"media/{held}.jpg", b"held", ContentType="image/jpeg")
    photo_put(SECONDARY, passing, "other direction still flows")

    poll(lambda: photo_get(PRIMARY, passing), what="the other direction", timeout=REPLICATED)
    poll(
        lambda: pending_toward(SECONDARY) >= 2,
        what="pending records and objects",
        timeout=REPLICATED,
    )
    assert pending_toward(PRIMARY) == 0
    assert photo_get(SECONDARY, held) is None
    status = replication_status_get()["directions"][EAST_TO_WEST]
    assert status["paused"] and status["datasets"]["photos"]["pending"] == 1

    fenced_at = time.time_ns() // 1000
    reasons = drain_check(source=PRIMARY, target=SECONDARY, fenced_at=fenced_at)
    assert any("paused" in r for r in reasons) and any("pending" in r for r in reasons)

    replication("resume", "--direction", EAST_TO_WEST)
    poll(
        lambda: photo_get(SECONDARY, held) and object_get(SECONDARY, f"media/{held}.jpg"),
        timeout=REPLICATED,
        what="the held photo and its media",
    )
    poll(
        lambda: pending_toward(SECONDARY) == 0,
        what="nothing pending after resume",
        timeout=REPLICATED,
    )
    poll(
        lambda: drain_check(source=PRIMARY, target=SECONDARY, fenced_at=fenced_at) == [],
        what="drained",
        timeout=REPLICATED,
    )


def test_delay_holds_each_change_for_the_given_time(replicator):
    replication("delay", "1.5")
    marked_at = time.time()
    replication_lag_mark(at=marked_at)
    photo_id = new_id()
    photo_put(PRIMARY, photo_id, "slow")
    settle(1.0)
    assert photo_get(SECONDARY, photo_id) is None
    poll(lambda: photo_get(SECONDARY, photo_id), what="delayed change", timeout=REPLICATED)

    def photos_lag():
        return replication_status_get()["directions"][EAST_TO_WEST]["datasets"]["photos"][
            "lag_p50_seconds"
        ]

    assert poll(photos_lag, what="lag in the status", timeout=REPLICATED) >= 1.5
    # The measurement started before the write covers it, and nothing made earlier.
    status = replication_status_get()["directions"][EAST_TO_WEST]
    assert status["lag_since"] == marked_at
    assert status["datasets"]["photos"]["lag_since_mark_samples"] == 1
    assert status["datasets"]["photos"]["lag_p99_since_mark_seconds"] >= 1.5


def test_a_lag_measurement_starts_at_a_time_in_epoch_seconds(state_dir):
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="epoch seconds"):
            replication_lag_mark(at=bad)
    assert replication_controls_get()[EAST_TO_WEST].lag_since == 0
    replication_lag_mark(at=1_800_000_000.5)
    assert {c.lag_since for c in replication_controls_get().values()} == {1_800_000_000.5}


def test_controls_refuse_bad_input(aws, state_dir):
    with pytest.raises(CommandError, match="unknown direction"):
        replication("pause", "--direction", "us-east-1-to-mars")
    with pytest.raises(CommandError, match="needs SECONDS"):
        replication("delay")
    with pytest.raises(CommandError, match="seconds from 0 to 3600"):
        replication("delay", "-1")
    assert replication_controls_get()[EAST_TO_WEST].delay_seconds == 0
    assert not routing_history_list(region=PRIMARY)


def test_a_control_changed_from_the_command_line_is_audited(aws, state_dir):
    replication("delay", "2", "--direction", EAST_TO_WEST, "--reason", "drill")
    replication("pause")
    pause, delay = routing_history_list(region=PRIMARY)
    assert (delay["kind"], delay["action"], delay["direction"]) == (
        "replication_control",
        "delay",
        EAST_TO_WEST,
    )
    assert delay["detail"] == f"replication {EAST_TO_WEST}: delay 2 s"
    assert delay["reason"] == "drill" and delay["actor"].endswith("(cli)")
    assert (pause["action"], pause["direction"]) == ("pause", "both")
    assert all(control.paused for control in replication_controls_get().values())


def test_controls_are_refused_on_aws(aws, state_dir, settings):
    settings.MRA_AWS_ENDPOINTS = {}
    with pytest.raises(ControlRefused, match="AWS Fault Injection Service") as info:
        replication_control_set(action="pause", direction=None, actor="olga")
    assert info.value.status == 400
    assert not replication_controls_get()[EAST_TO_WEST].paused


def test_without_a_running_replicator_nothing_is_pending_and_nothing_drained(state_dir):
    status = replication_status_get()["directions"][EAST_TO_WEST]
    assert status["running"] is False and status["age_seconds"] is None
    [reason] = drain_check(source=PRIMARY, target=SECONDARY, fenced_at=0)
    assert "not running" in reason and "manage.py replicate" in reason
