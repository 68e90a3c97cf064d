"""Project exceptions for AWS failures that callers act on."""


class AwsError(Exception):
    """Base class; `region` names where it happened."""

    def __init__(self, message: str, *, region: str = "", code: str = "") -> None:
        super().__init__(message)
        self.region = region
        self.code = code


class RegionUnavailable(AwsError):
    """The region's endpoint did not answer (connection refused, timeout)."""


class ResourceMissing(AwsError):
    """A bucket, table, pool or item that should exist does not."""


class ConditionFailed(AwsError):
    """A conditional write or transaction was refused by its condition."""

    def __init__(self, message: str, *, region: str = "", code: str = "", reasons=()) -> None:
        super().__init__(message, region=region, code=code)
        self.reasons = list(reasons)


class AuthFailed(AwsError):
    """Cognito refused the credentials or token."""


class InvalidRequest(AwsError):
    """AWS refused the request's parameters (for example a weak password)."""
