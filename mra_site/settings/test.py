"""The test suite: emulator endpoints are set by the fixtures in tests/conftest.py."""

import tempfile

from .base import *  # noqa: F403

DEBUG = False
MRA_COGNITO_JWKS_TTL = 300
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Never the replication status of a local stack that happens to be running.
MRA_REPLICATION_STATE_DIR = Path(tempfile.mkdtemp(prefix="mra-test-replication-"))  # noqa: F405
# Each test sees /readyz answer fresh; its cache is tested with an override.
MRA_READYZ_CACHE_SECONDS = 0.0
# As on a local stack; the e-mailed code is tested with the setting off.
MRA_COGNITO_AUTO_CONFIRM = True
