"""The operator console: the state, both regions, the lag, the allowed moves, the log."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mra_site.aws.errors import AwsError

from .selectors import routing_history_list
from .services import TransitionRefused, routing_state_transition
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
    overview = routing_overview()
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
            "primary_region": settings.MRA_PRIMARY_REGION,
            "secondary_region": settings.MRA_SECONDARY_REGION,
        },
    )


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
