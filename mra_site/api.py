"""API conventions: errors are JSON {"error": CODE, "detail": TEXT}; input is
parsed by an input serializer, which is also what the schema documents."""

from typing import Any, ClassVar

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
