"""Checking real API responses against the OpenAPI schema the site serves."""

from django.test import Client
from openapi_schema_validator import OAS30Validator, validate
from openapi_spec_validator import validate as validate_spec


class ApiSchema:
    def __init__(self, client: Client) -> None:
        response = client.get("/api/schema/", {"format": "json"})
        assert response.status_code == 200
        self.spec = response.json()
        validate_spec(self.spec)

    def check(self, method: str, path: str, response) -> None:
        """Assert `response` to `method path` (a schema path template) is documented as sent."""
        operation = self.spec["paths"][path][method.lower()]
        documented = operation["responses"]
        status = str(response.status_code)
        assert status in documented, f"{method} {path} answered {status}, not in the schema"
        content = documented[status].get("content")
        if response.status_code == 204:
            assert not content and not response.content
            return
        schema = content["application/json"]["schema"]
        validate(
            response.json(),
            {"allOf": [schema], "components": self.spec["components"]},
            cls=OAS30Validator,
        )
