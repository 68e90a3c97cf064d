"""OpenAPI description of the Cognito Bearer authentication (loaded by AccountsConfig)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CognitoBearerScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.CognitoBearerAuthentication"
    name = "cognitoBearer"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A Cognito access token from either region's user pool, e.g. from "
                "POST /api/auth/token. Pages use the same token from an HttpOnly cookie."
            ),
        }
