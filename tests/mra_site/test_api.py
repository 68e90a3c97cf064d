"""Every API error, DRF's own included, answers {"error", "detail"}; no emulator needed."""

import pytest
from django.test import Client
from rest_framework import exceptions

from mra_site.api import exception_handler
from mra_site.errors import Unavailable


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (exceptions.ValidationError({"state": ["Not a state."]}), 400, "invalid"),
        (exceptions.ParseError(), 400, "invalid"),
        (exceptions.NotAuthenticated(), 401, "not_authenticated"),
        (exceptions.PermissionDenied(), 403, "permission_denied"),
        (exceptions.NotFound(), 404, "not_found"),
        (exceptions.MethodNotAllowed("PUT"), 405, "method_not_allowed"),
        (exceptions.UnsupportedMediaType("text/plain"), 415, "unsupported_media_type"),
    ],
)
def test_drf_errors_keep_the_documented_shape(exc, status, code):
    response = exception_handler(exc, {})
    assert response.status_code == status
    assert response.data["error"] == code
    assert isinstance(response.data["detail"], str) and response.data["detail"]


def test_a_validation_error_names_its_fields():
    response = exception_handler(exceptions.ValidationError({"state": ["Not a state."]}), {})
    assert response.data["detail"] == "state: Not a state."
    assert set(response.data["fields"]) == {"state"}


def test_application_errors_answer_with_their_status_body_and_retry_after():
    response = exception_handler(Unavailable("us-east-1 did not answer.", extra={"a": 1}), {})
    assert response.status_code == 503
    assert response.data == {"error": "unavailable", "detail": "us-east-1 did not answer.", "a": 1}
    assert response["Retry-After"] == "5"


def test_over_http():
    client = Client()
    anonymous = client.post("/api/photos", {"title": "x"})
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.json()["error"] == "not_authenticated"

    wrong_method = client.put("/api/auth/token")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "method_not_allowed")
    garbled = client.post("/api/auth/token", "{not json", content_type="application/json")
    assert (garbled.status_code, garbled.json()["error"]) == (400, "invalid")
    plain = client.post("/api/auth/token", "user", content_type="text/plain")
    assert (plain.status_code, plain.json()["error"]) == (415, "unsupported_media_type")
    missing = client.post("/api/auth/token", {}, content_type="application/json")
    assert missing.status_code == 400
    assert set(missing.json()["fields"]) == {"username", "password"}
