"""The operator console: the state, both regions, the lag, the allowed moves, the log."""

import hashlib
import re

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from mra_site.aws.errors import AwsError
from replication.controls import MAX_DELAY_SECONDS, control_as_dict, replication_controls_get
from replication.directions import datasets_all
from replication.services import ControlRefused, replication_control_set

from .forms import ControlForm, TransitionForm
from .selectors import routing_history_list, routing_state_for_operators
from .status import Overview, routing_overview, routing_overview_live
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


# How often the console's script asks for console_status.
POLL_SECONDS = 1.5


def _render_console(request: HttpRequest, *, control_error: str = "", status: int = 200):
    # No probes here: the page renders at once and its script fills them in.
    overview = routing_overview(with_replication=True, with_probes=False)
    try:
        history = routing_history_list(region=settings.MRA_REGION, limit=50)
        history_error = ""
    except AwsError as exc:
        history, history_error = [], str(exc)
    return render(
        request,
        "routing/console.html",
        {
            **_console_context(overview),
            "history": history,
            "history_error": history_error,
            "control_error": control_error,
            "max_delay_seconds": f"{MAX_DELAY_SECONDS:g}",
            "poll_seconds": f"{POLL_SECONDS:g}",
            "poll_ms": int(POLL_SECONDS * 1000),
        },
        status=status,
    )


def _console_context(overview: Overview) -> dict:
    return {
        "overview": overview,
        "record": overview.record,
        "serving_region": settings.MRA_REGION,
        "primary_region": settings.MRA_PRIMARY_REGION,
        "secondary_region": settings.MRA_SECONDARY_REGION,
        "replication": _replication_rows(overview.replication or {}),
    }


@never_cache
@require_GET
def console_status(request: HttpRequest) -> JsonResponse:
    """GET /console/status.json: what the console shows, for its script to patch the
    page in place: the state, probes, lag, drain progress, replication, and the
    page's live sections rendered (`html`). Read at most once a second per process."""
    user = request.user
    if not user.is_authenticated:
        return JsonResponse(
            {
                "error": "not_authenticated",
                "detail": "Sign in with an operator account to see the console.",
            },
            status=401,
        )
    if not getattr(user, "is_operator", False):
        return JsonResponse(
            {
                "error": "permission_denied",
                "detail": f"Your account, {user.username}, may not see the operator console.",
            },
            status=403,
        )
    overview = routing_overview_live()
    sections = _live_sections(request, _console_context(overview))
    record = overview.record
    state = None
    if record:
        state = {
            **routing_state_for_operators(record=record, serving_region=settings.MRA_REGION),
            "fenced_from": record.fenced_from,
        }
    return JsonResponse(
        {
            "state": state,
            "unreached_regions": sorted(overview.replicas.errors),
            "stale_replicas": overview.stale_replicas,
            "regions": {
                row["region"]: {
                    "role": row["role"],
                    "ready": row["health"].ready if row["health"] else None,
                    "probe": row["health"].detail if row["health"] else "checking",
                    "lag_seconds": row["lag_seconds"],
                    "lag_error": row["lag"].error,
                }
                for row in overview.rows
            },
            "drain": overview.drain.as_dict() if overview.drain else None,
            "replication": overview.replication,
            "read_at": overview.read_at,
            "summary": _summary(overview),
            "html": sections,
            "keys": {name: _section_key(html) for name, html in sections.items()},
        }
    )


# Each render masks the CSRF token anew: left out of a section's key, so that the
# script replaces a section only when what it shows changed.
_CSRF_INPUT = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]*">')


def _section_key(html: str) -> str:
    return hashlib.sha1(_CSRF_INPUT.sub("", html).encode(), usedforsecurity=False).hexdigest()


def _summary(overview: Overview) -> str:
    """One sentence for screen readers, announced when it changes."""
    record = overview.record
    if record is None:
        return "No region answered with the routing state."
    summary = f"State {record.state.value}, version {record.version}."
    if overview.drain and not overview.drain.drained:
        summary += f" A promotion waits for the drain of {overview.drain.target}."
    elif overview.drain:
        summary += f" {overview.drain.target} is drained."
    return summary


def _live_sections(request: HttpRequest, context: dict) -> dict[str, str]:
    """The page's [data-live-html] sections, rendered as on the page."""

    def fragment(name: str, **extra) -> str:
        return render_to_string(f"routing/console/{name}.html", {**context, **extra}, request)

    sections = {
        "overview": fragment("overview"),
        "replicator": fragment("replicator"),
        "canary": fragment("canary"),
    }
    if context["record"]:
        sections["actions"] = fragment("actions")
    for direction in context["replication"]["directions"]:
        sections[f"direction-{direction['name']}"] = fragment("direction", direction=direction)
        if context["replication"]["emulated"]:
            sections[f"toggle-{direction['name']}"] = fragment("toggle", direction=direction)
    return sections


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
