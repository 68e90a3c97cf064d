"""The operator console: the state, both regions, the lag, the allowed moves, the log."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mra_site.aws.clients import is_emulated
from mra_site.aws.errors import AwsError
from replication.controls import (
    control_as_dict,
    replication_controls_get,
    replication_delay,
    replication_pause,
    replication_resume,
)
from replication.directions import UnknownDirection, datasets_all, direction_parse

from .selectors import routing_history_list
from .services import TransitionRefused, replication_control_audit, routing_state_transition
from .states import RoutingState
from .status import routing_overview


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "403.html", status=403)


@never_cache
@require_http_methods(["GET", "POST"])
def console(request: HttpRequest) -> HttpResponse:
    if not getattr(request.user, "is_operator", False):
        return _forbidden(request)
    if request.method == "POST":
        return _transition(request)
    return _render_console(request)


# Longer than any drill needs; a typo of an extra digit should not stall replication for a day.
MAX_DELAY_SECONDS = 3600


def _render_console(request: HttpRequest, *, control_error: str = "", status: int = 200):
    overview = routing_overview(with_replication=True)
    try:
        history = routing_history_list(region=settings.MRA_REGION, limit=50)
        history_error = ""
    except AwsError as exc:
        history, history_error = [], str(exc)
    return render(
        request,
        "routing/console.html",
        {
            "overview": overview,
            "record": overview.record,
            "history": history,
            "history_error": history_error,
            "serving_region": settings.MRA_REGION,
            "primary_region": settings.MRA_PRIMARY_REGION,
            "secondary_region": settings.MRA_SECONDARY_REGION,
            "replication": _replication_rows(overview.replication or {}),
            "control_error": control_error,
            "max_delay_seconds": MAX_DELAY_SECONDS,
        },
        status=status,
    )


def _replication_rows(overview: dict) -> dict:
    """The replication overview arranged for the page: per direction, the drill controls
    as set (the replicator applies them within a second) and the datasets in a fixed order."""
    emulated = overview.get("mode") == "emulated"
    controls = replication_controls_get() if emulated else {}
    directions = []
    for name, status in overview.get("directions", {}).items():
        datasets = status.get("datasets") or {}
        directions.append(
            {
                "name": name,
                "status": status,
                "control": control_as_dict(controls[name]) if name in controls else None,
                "datasets": [(key, datasets[key]) for key in datasets_all() if key in datasets],
            }
        )
    return {
        "mode": overview.get("mode", "unknown"),
        "emulated": emulated,
        "running": overview.get("running"),
        "directions": directions,
        "canary": overview.get("canary", {}),
    }


@never_cache
@require_http_methods(["POST"])
def replication_control(request: HttpRequest) -> HttpResponse:
    """Drill controls of the local replicator: pause, resume or delay one direction."""
    if not getattr(request.user, "is_operator", False):
        return _forbidden(request)

    def refuse(message: str) -> HttpResponse:
        return _render_console(request, control_error=message, status=400)

    if not is_emulated():
        return refuse(
            "Drill controls act on the local replicator only; on AWS, pause or delay "
            "replication with AWS Fault Injection Service."
        )
    action = request.POST.get("action", "")
    if action not in ("pause", "resume", "delay"):
        return refuse("Choose pause, resume or delay; reload the console and try again.")
    try:
        direction = direction_parse(request.POST.get("direction", ""))
    except UnknownDirection as exc:
        return refuse(f"Not changed: {exc}.")
    reason = request.POST.get("reason", "").strip()[:500]
    if action == "delay":
        raw = request.POST.get("seconds", "").strip()
        try:
            seconds = float(raw)
        except ValueError:
            seconds = float("nan")
        if not 0 <= seconds <= MAX_DELAY_SECONDS:  # also false for nan and inf
            return refuse(
                f"Not changed: the delay for {direction} must be a number of seconds from 0 "
                f"to {MAX_DELAY_SECONDS} (0 removes it), not {raw or 'empty'!r}."
            )
        replication_delay(seconds=seconds, direction=direction)
        detail = f"delay {seconds:g} s" if seconds else "delay removed"
    elif action == "pause":
        replication_pause(direction=direction)
        detail = "paused"
    else:
        replication_resume(direction=direction)
        detail = "resumed"
    replication_control_audit(
        actor=request.user.username,
        action=action,
        direction=direction.name,
        detail=f"replication {direction}: {detail}",
        reason=reason,
    )
    messages.success(
        request,
        f"Replication {direction}: {detail}. The replicator picks it up at its next round.",
    )
    return HttpResponseRedirect(reverse("routing:console") + "#replication")


def _transition(request: HttpRequest) -> HttpResponse:
    back = HttpResponseRedirect(reverse("routing:console"))
    try:
        target = RoutingState(request.POST.get("state", ""))
        expected_version = int(request.POST.get("expected_version", ""))
    except ValueError:
        messages.error(request, "The form was incomplete; reload the console and try again.")
        return back
    reason = request.POST.get("reason", "").strip()
    force = request.POST.get("force") == "on"
    if not reason:
        messages.error(request, "Say why (the reason goes into the audit log).")
        return back
    if force:
        expected = target.writable_region() or ""
        if request.POST.get("confirm", "").strip() != expected:
            messages.error(
                request,
                f"Not forced: type {expected} in the confirmation box to accept losing the "
                "writes that have not replicated.",
            )
            return back
    try:
        result = routing_state_transition(
            target=target,
            expected_version=expected_version,
            actor=request.user.username,
            reason=reason,
            force=force,
        )
    except TransitionRefused as refusal:
        messages.error(request, f"Refused ({refusal.error}): {refusal.detail}")
        return back
    note = f"State is now {result.record.state.value} (version {result.record.version})."
    if result.unreached:
        note += " Not reached: " + ", ".join(result.unreached) + " (updated when it answers)."
    if result.at_risk:
        note += " Possibly lost: " + result.at_risk.summary() + "."
    messages.success(request, note)
    return back
