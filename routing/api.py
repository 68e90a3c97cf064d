"""The state API of DESIGN.md: thin views over the routing services and selectors."""

from datetime import UTC, datetime

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsOperator
from mra_site.api import (
    ErrorSerializer,
    InputSerializer,
    error_responses,
    retry_after,
)
from replication.drain import AtRisk

from .selectors import (
    HISTORY_DEFAULT_LIMIT,
    HISTORY_MAX_LIMIT,
    routing_history_list,
    routing_state_for_operators,
    routing_state_get,
    routing_state_public,
)
from .states import RoutingState
from .transitions import REASON_MAX_LENGTH, routing_state_request

# Pages poll every two seconds; a shared cache may keep the answer at most one.
STATE_CACHE_CONTROL = "public, max-age=1"


class TransitionSerializer(InputSerializer):
    state = serializers.ChoiceField(choices=[s.value for s in RoutingState])
    expected_version = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
    force = serializers.BooleanField(default=False)


class HistoryQuery(InputSerializer):
    limit = serializers.IntegerField(
        min_value=1,
        max_value=HISTORY_MAX_LIMIT,
        default=HISTORY_DEFAULT_LIMIT,
        help_text=f"1 to {HISTORY_MAX_LIMIT}, default {HISTORY_DEFAULT_LIMIT}",
    )

    error_codes = {"limit": "invalid_limit"}


class RegionSerializer(serializers.Serializer):
    url = serializers.CharField()
    role = serializers.ChoiceField(choices=["primary", "secondary"])


class StateSerializer(serializers.Serializer):
    app_id = serializers.CharField()
    state = serializers.ChoiceField(choices=[s.value for s in RoutingState])
    version = serializers.IntegerField()
    writable_region = serializers.CharField(allow_null=True)
    primary_region = serializers.CharField()
    secondary_region = serializers.CharField()
    serving_region = serializers.CharField()
    regions = serializers.DictField(child=RegionSerializer())
    updated_at = serializers.CharField()
    updated_by = serializers.CharField(required=False, help_text="Operators only.")
    reason = serializers.CharField(
        allow_blank=True,
        required=False,
        help_text="Operators only: an operator's reason is never shown to other users.",
    )


class TransitionResultSerializer(StateSerializer):
    forced = serializers.BooleanField()
    unreached_regions = serializers.ListField(child=serializers.CharField())
    drain = serializers.CharField(required=False)
    at_risk = inline_serializer(
        "AtRisk",
        {
            "summary": serializers.CharField(),
            "source_region": serializers.CharField(),
            "since": serializers.CharField(allow_null=True),
            "writes": serializers.ListField(child=serializers.CharField()),
            "complete": serializers.BooleanField(),
        },
        required=False,
    )


class AuditEventSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    at = serializers.CharField()
    actor = serializers.CharField()
    via_region = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["changed", "refused", "unknown"])
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField()
    expected_version = serializers.IntegerField()
    version = serializers.IntegerField(required=False, help_text="the version written")
    found_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="the version the attempt found (re-read after a write left unanswered); "
        "null when even the re-read got no answer",
    )
    attempted_version = serializers.IntegerField(
        required=False, help_text="the version an attempt of unknown outcome tried to write"
    )
    write_id = serializers.CharField(
        required=False, help_text="the attempt's id, stored in the state item it wrote"
    )
    resolves = serializers.CharField(
        required=False,
        help_text="the event_id of the attempt of unknown outcome this record resolves",
    )
    reason = serializers.CharField(allow_blank=True)
    forced = serializers.BooleanField()
    lag_seconds = serializers.FloatField(required=False)
    error = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)
    drain = serializers.CharField(required=False)
    at_risk = serializers.CharField(required=False)
    at_risk_writes = serializers.ListField(child=serializers.CharField(), required=False)
    unreached_regions = serializers.ListField(child=serializers.CharField(), required=False)
    kind = serializers.ChoiceField(choices=["replication_control"], required=False)
    action = serializers.ChoiceField(choices=["pause", "resume", "delay"], required=False)
    direction = serializers.CharField(required=False)


HISTORY = inline_serializer("StateHistory", {"results": AuditEventSerializer(many=True)})

UNAVAILABLE = inline_serializer(
    "RoutingUnavailable",
    {
        "error": serializers.ChoiceField(choices=["region_unavailable", "outcome_unknown"]),
        "detail": serializers.CharField(),
        "version": serializers.IntegerField(
            required=False,
            allow_null=True,
            help_text="outcome_unknown: the version found on re-reading the state (null "
            "when even the re-read got no answer); the audit log says later what happened",
        ),
    },
)


def allowed_origin(origin: str) -> str | None:
    """The Origin header, if it is one of the regional sites."""
    origins = {url.rstrip("/") for url in settings.MRA_REGION_URLS.values() if url}
    return origin if origin in origins else None


class StateAPI(APIView):
    def get_permissions(self) -> list[permissions.BasePermission]:
        if self.request.method in permissions.SAFE_METHODS:
            return [permissions.AllowAny()]
        return [IsOperator()]

    def get_authenticators(self):
        # The public read needs no identity; skipping it keeps a bad cookie
        # from turning the poll of every page into a 401.
        request = getattr(self, "request", None)
        if request is not None and request.method in permissions.SAFE_METHODS:
            return []
        return super().get_authenticators()

    @extend_schema(
        parameters=[retry_after(503)],
        responses={200: StateSerializer, **error_responses((503,), bodies={503: ErrorSerializer})},
        summary="The routing state, from this region's replica",
    )
    def get(self, request: Request) -> Response:
        record = routing_state_get(region=settings.MRA_REGION)
        if self._from_operator(request):
            body = routing_state_for_operators(record=record, serving_region=settings.MRA_REGION)
            cache_control = "private, max-age=1"
        else:
            body = routing_state_public(record=record, serving_region=settings.MRA_REGION)
            cache_control = STATE_CACHE_CONTROL
        response = Response(body)
        response["Cache-Control"] = cache_control
        # The other region's pages fall back to this answer when their own
        # region does not answer.
        origin = allowed_origin(request.headers.get("Origin", ""))
        if origin:
            response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        return response

    def _from_operator(self, request: Request) -> bool:
        """Whether the caller proves to be an operator; a missing or bad token
        just makes it a member of the public, never an error."""
        for authenticator in super().get_authenticators():
            try:
                found = authenticator.authenticate(request)
            except exceptions.APIException:
                return False
            if found:
                return bool(getattr(found[0], "is_operator", False))
        return False

    @extend_schema(
        request=TransitionSerializer,
        # A region that did not answer with the state is refused without Retry-After.
        parameters=[retry_after(503, required=False)],
        responses={
            200: TransitionResultSerializer,
            **error_responses(
                (400, 401, 403, 409, 413, 415, 503),
                described={
                    409: "`version_conflict` (expected_version is not the current one), "
                    "`invalid_transition` or `not_drained`",
                    503: "`region_unavailable` (a region did not answer with the state) or "
                    "`outcome_unknown` (+ Retry-After: the write was sent, its outcome not "
                    "learned; `version` is the version found on re-reading)",
                },
                bodies={503: UNAVAILABLE},
            ),
        },
        summary="Change the routing state (operators)",
    )
    def post(self, request: Request) -> Response:
        result = routing_state_request(
            request=TransitionSerializer.parse(request.data), actor=request.user.username
        )
        body = routing_state_for_operators(record=result.record, serving_region=settings.MRA_REGION)
        body["forced"] = result.forced
        body["unreached_regions"] = result.unreached
        if result.drain:
            body["drain"] = result.drain.summary()
        if result.at_risk:
            body["at_risk"] = at_risk_data(result.at_risk)
        return Response(body)


def at_risk_data(at_risk: AtRisk) -> dict:
    """What a forced promotion may have lost: writes made in the old region after `since`."""
    since = (
        datetime.fromtimestamp(at_risk.since_us / 1_000_000, tz=UTC).isoformat()
        if at_risk.since_us
        else None
    )
    return {
        "summary": at_risk.summary(),
        "source_region": at_risk.source,
        "since": since,
        "writes": at_risk.writes,
        "complete": at_risk.complete,
    }


class StateHistoryAPI(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        parameters=[HistoryQuery, retry_after(503)],
        responses={200: HISTORY, **error_responses((400, 401, 403, 414, 503))},
        summary="Routing changes and refused attempts, newest first (operators)",
    )
    def get(self, request: Request) -> Response:
        query = HistoryQuery.parse(request.query_params)
        return Response(
            {"results": routing_history_list(region=settings.MRA_REGION, limit=query["limit"])}
        )
