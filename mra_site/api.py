"""API conventions: errors are JSON {"error": CODE, "detail": TEXT}; input is
parsed by an input serializer, which is also what the schema documents."""

from collections.abc import Iterable
from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from mra_site.errors import ApplicationError

_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
}


def _flatten(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(
            f"{key}: {_flatten(value)}" if key != "non_field_errors" else _flatten(value)
            for key, value in detail.items()
        )
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


class InputRefused(ApplicationError):
    """An API input that its input serializer refused."""


class InputSerializer(serializers.Serializer):
    """Parses and validates one API input (body or query) and documents it in the schema.

    A refusal answers 400 with the code `error_codes` gives the first refused
    field, so clients keep the codes they know ("invalid_title"), else "invalid";
    `fields` lists every refusal by field.
    """

    error_codes: ClassVar[dict[str, str]] = {}

    @classmethod
    def parse(cls, data: Any) -> dict[str, Any]:
        serializer = cls(data=data)
        if serializer.is_valid():
            return dict(serializer.validated_data)
        errors = serializer.errors
        raise InputRefused(
            _flatten(errors),
            code=cls.error_codes.get(next(iter(errors)), "invalid"),
            extra={"fields": errors},
        )


class ErrorSerializer(serializers.Serializer):
    """The body of every refusal; some codes add fields (`fields`, `writable_url`, ...)."""

    error = serializers.CharField(help_text="A stable, machine-readable code")
    detail = serializers.CharField(help_text="What happened and what to do, for a person")


class InputErrorSerializer(ErrorSerializer):
    fields = serializers.DictField(
        required=False, help_text="Each refused field with its messages (400 only)"
    )


class WriteRefusedSerializer(ErrorSerializer):
    writable_region = serializers.CharField(
        required=False, allow_null=True, help_text="The region that takes writes, if any"
    )
    writable_url = serializers.CharField(
        required=False, allow_blank=True, help_text="Its regional address"
    )


# What each status means wherever it is answered; an endpoint adds its own codes.
_MEANINGS = {
    400: "The input was refused: `error` names the first refused field's code (e.g. "
    "`invalid_limit`), `detail` says how to fix it.",
    401: "`not_authenticated`: no token, or a malformed, expired or unknown one.",
    403: "`permission_denied`: the token's user may not do this.",
    404: "`not_found`.",
    409: "A conflict with the current state; `detail` says what to do.",
    413: "`too_large`: the body is over the size limit.",
    414: "The request line (path and query) is over the server's limit (about 4 KB); "
    "answered by the HTTP server, not as JSON.",
    415: "`unsupported_media_type`: send JSON, multipart or form data.",
    421: "`read_only_region`: the other region takes writes now; retry at `writable_url`.",
    422: "The request is well-formed but cannot be processed as sent.",
    429: "Too many attempts: wait for Retry-After seconds.",
    503: "Temporarily unavailable (`region_unavailable`, `fenced`, `read_only_region` through "
    "the front door, ...): nothing was stored unless `error` says `outcome_unknown`; "
    "retry after Retry-After seconds.",
}
_BODIES: dict[int, type[serializers.Serializer]] = {
    400: InputErrorSerializer,
    421: WriteRefusedSerializer,
    503: WriteRefusedSerializer,
}
# Refused by the HTTP server before the site sees the request.
_NO_JSON = {414}
# The statuses answered with Retry-After always (429, 503) or for some codes (409).
RETRY_AFTER_ALWAYS = (429, 503)


def error_responses(
    statuses: Iterable[int],
    *,
    described: dict[int, str] | None = None,
    bodies: dict[int, Any] | None = None,
) -> dict[int, OpenApiResponse]:
    """The schema's error answers for `statuses`, each `{"error", "detail"}`; `described`
    and `bodies` replace a status's general description or body."""
    described, bodies = described or {}, bodies or {}
    return {
        code: OpenApiResponse(
            None if code in _NO_JSON else bodies.get(code, _BODIES.get(code, ErrorSerializer)),
            description=described.get(code, _MEANINGS[code]),
        )
        for code in statuses
    }


def retry_after(*statuses: int, required: bool = True) -> OpenApiParameter:
    """The Retry-After response header of `statuses`."""
    return OpenApiParameter(
        name="Retry-After",
        type=OpenApiTypes.INT,
        location=OpenApiParameter.HEADER,
        response=list(statuses),
        required=required,
        description="Seconds to wait before trying again",
    )


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """The API's one error handler: ApplicationError as documented, DRF's own errors
    (validation, authentication, 404, 405) in the same {"error", "detail"} shape."""
    if isinstance(exc, ApplicationError):
        return Response(exc.body(), status=exc.status, headers=exc.headers())
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data: dict[str, Any] = {
        "error": _CODES.get(response.status_code, "error"),
        "detail": _flatten(response.data.get("detail", response.data))
        if isinstance(response.data, dict)
        else _flatten(response.data),
    }
    if isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        data["fields"] = exc.detail
    response.data = data
    return response
