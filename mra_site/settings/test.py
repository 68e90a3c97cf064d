"""The test suite: emulator endpoints are set by the fixtures in tests/conftest.py."""

from .base import *  # noqa: F403

DEBUG = False
MRA_COGNITO_JWKS_TTL = 300
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
