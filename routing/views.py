"""The operator console: the state, both regions, the lag, the allowed moves, the log."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mra_site.aws.errors import AwsError
from replication.controls import MAX_DELAY_SECONDS, control_as_dict, replication_controls_get
from replication.directions import datasets_all
from replication.services import ControlRefused, replication_control_set

from .forms import ControlForm, TransitionForm
from .selectors import routing_history_list
from .status import routing_overview
from .transitions import TransitionRefused, TransitionUnknown, routing_state_request


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
            "max_delay_seconds": f"{MAX_DELAY_SECONDS:g}",
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
    form = ControlForm(request.POST)
    form.is_valid()
    try:
        change = replication_control_set(
            action=form.cleaned_data["action"],
            direction=form.cleaned_data["direction"] or "",
            seconds=form.cleaned_data["seconds"],
            actor=request.user.username,
            reason=form.cleaned_data["reason"],
        )
    except ControlRefused as refusal:
        return _render_console(request, control_error=refusal.detail, status=refusal.status)
    messages.success(request, change.message)
    return HttpResponseRedirect(reverse("routing:console") + "#replication")


def _transition(request: HttpRequest) -> HttpResponse:
    back = HttpResponseRedirect(reverse("routing:console"))
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return back
    try:
        result = routing_state_request(request=form.cleaned_data, actor=request.user.username)
    except TransitionRefused as refusal:
        messages.error(request, f"Refused ({refusal.code}): {refusal.detail}")
        return back
    except TransitionUnknown as unknown:
        found = "unknown" if unknown.found_version is None else unknown.found_version
        messages.warning(request, f"Outcome unknown (version found: {found}): {unknown.detail}")
        return back
    note = f"State is now {result.record.state.value} (version {result.record.version})."
    if result.unreached:
        note += " Not reached: " + ", ".join(result.unreached) + " (updated when it answers)."
    if result.at_risk:
        note += " Possibly lost: " + result.at_risk.summary() + "."
    messages.success(request, note)
    return back
