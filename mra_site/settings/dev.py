"""The local two-region stack."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# No e-mail leaves a local stack: sign-up confirms users without a code.
MRA_COGNITO_AUTO_CONFIRM = env.bool("MRA_COGNITO_AUTO_CONFIRM", default=True)
# The tests' sites record their AWS calls here (mra_site/aws/calllog.py).
MRA_AWS_CALL_LOG = env.str("MRA_AWS_CALL_LOG", default="")
