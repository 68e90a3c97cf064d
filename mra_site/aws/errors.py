"""Project exceptions for AWS failures that callers act on.

`aws_code` keeps the AWS error code (e.g. "ConditionalCheckFailedException");
`code`, `status` and `detail` are what a client is told if the error reaches
it unhandled (see mra_site.errors). str(exc) keeps the technical message,
which names the action, the region and AWS's own words, for logs and operators.
"""

from collections.abc import Iterable

from mra_site.errors import ApplicationError


class AwsError(ApplicationError):
    """Base class; `region` names where it happened."""

    code = "aws_error"
    status = 503
    title = "Temporarily unavailable"
    retry_after: int | None = 5

    def __init__(self, message: str, *, region: str = "", aws_code: str = "") -> None:
        super().__init__(message)
        self.region = region
        self.aws_code = aws_code
        self.detail = (
            f"A service of region {region or 'this site'} refused the request. Try again in a "
            "few seconds; if it keeps happening, tell the operators."
        )


class RegionUnavailable(AwsError):
    """The region's endpoint did not answer (connection refused, timeout)."""

    code = "region_unavailable"

    def __init__(self, message: str, *, region: str = "", aws_code: str = "") -> None:
        super().__init__(message, region=region, aws_code=aws_code)
        self.detail = f"A service of region {region} did not answer. Try again shortly."


class ResourceMissing(AwsError):
    """A bucket, table, pool or item that should exist does not."""

    code = "resource_missing"


class ConditionFailed(AwsError):
    """A conditional write or transaction was refused by its condition."""

    code = "conflict"
    status = 409
    retry_after = None

    def __init__(
        self,
        message: str,
        *,
        region: str = "",
        aws_code: str = "",
        reasons: Iterable[str] = (),
    ) -> None:
        super().__init__(message, region=region, aws_code=aws_code)
        self.reasons = list(reasons)
        self.detail = "Someone else changed this meanwhile. Reload and try again."


class AuthFailed(AwsError):
    """Cognito refused the credentials or token."""

    code = "not_authenticated"
    status = 401
    retry_after = None


class InvalidRequest(AwsError):
    """AWS refused the request's parameters (for example a weak password)."""

    code = "invalid"
    status = 400
    retry_after = None
