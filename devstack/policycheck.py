"""Check recorded AWS calls (mra_site/aws/calllog.py) against the site role's
IAM policy, for what the emulator's own IAM enforcement does not cover.

Each call is turned into the IAM action(s) and resource ARN(s) AWS authorises
it as, then evaluated against the identity policies of the role of the region
the process serves, as parsed from deploy/cloudformation/regional.yaml by
devstack.iam. A call with no known mapping fails the check too, so that a new
kind of call cannot slip through unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

ACCOUNT = "123456789012"
NO_POOL_CALLED = "no-pool-called"
PARTITION = "aws"

# Calls the deployed site never makes: local machinery only.
LOCAL_ONLY = {
    # Local processes get the role's credentials by AssumeRole; a Lambda gets them from Lambda.
    ("sts", "AssumeRole"): "local credentials for the role",
    ("sts", "GetCallerIdentity"): "local credentials for the role",
    # Locally pools and clients are found by name; on AWS their ids are
    # configured (MRA_COGNITO_POOL_IDS, MRA_COGNITO_CLIENT_IDS).
    ("cognito-idp", "ListUserPools"): "pool looked up by name locally",
    ("cognito-idp", "ListUserPoolClients"): "app client looked up by name locally",
}
# Cognito's user APIs are authorised by the user's password or token, not IAM.
COGNITO_UNAUTHENTICATED = {
    "InitiateAuth",
    "RespondToAuthChallenge",
    "SignUp",
    "ConfirmSignUp",
    "ResendConfirmationCode",
    "ForgotPassword",
    "ConfirmForgotPassword",
    "ChangePassword",
    "GetUser",
    "GlobalSignOut",
    "RevokeToken",
}
DYNAMODB_TABLE_OPS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "DescribeTable",
    "CreateTable",
    "DeleteTable",
    "UpdateTable",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
}
DYNAMODB_STREAM_OPS = {"DescribeStream", "GetShardIterator", "GetRecords"}
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
# S3 operations on an object: (action, action when a VersionId is given).
S3_OBJECT_OPS = {
    "GetObject": ("GetObject", "GetObjectVersion"),
    "HeadObject": ("GetObject", "GetObjectVersion"),
    "PutObject": ("PutObject", "PutObject"),
    "DeleteObject": ("DeleteObject", "DeleteObjectVersion"),
}
S3_BUCKET_OPS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "CreateBucket": "CreateBucket",
    "GetBucketVersioning": "GetBucketVersioning",
    "PutBucketVersioning": "PutBucketVersioning",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
}
COGNITO_POOL_OPS = {
    "DescribeUserPool",
    "CreateGroup",
    "ListGroups",
    "CreateUserPoolClient",
    "DescribeUserPoolClient",
}
SQS_QUEUE_OPS = {
    "GetQueueUrl",
    "GetQueueAttributes",
    "ReceiveMessage",
    "DeleteMessage",
    "DeleteMessageBatch",
    "SendMessage",
}
CLOUDWATCH_OPS = {"GetMetricStatistics", "GetMetricData", "ListMetrics", "PutMetricData"}
SECRETS_OPS = {"GetSecretValue", "DescribeSecret"}


class UnknownOperation(Exception):
    """A recorded call this module cannot name an IAM action and resource for."""


@dataclass(frozen=True)
class Request:
    action: str
    resource: str


@dataclass(frozen=True)
class Violation:
    call: dict[str, Any]
    action: str
    resource: str
    reason: str

    def describe(self) -> str:
        call = self.call
        test = call.get("test") or "outside any test"
        return (
            f"{call['service']}:{call['operation']} in {call['region']} by the "
            f"{call.get('process', 'site')} of {call.get('role_region')}: {self.action} on "
            f"{self.resource} — {self.reason} ({test})"
        )


def arn(service: str, region: str, resource: str) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT}:{resource}"


def requests_for(call: dict[str, Any]) -> list[Request]:
    """The (action, resource) pairs AWS authorises a recorded call as; [] for
    calls IAM does not authorise. Raises UnknownOperation."""
    service, operation = call["service"], call["operation"]
    if (service, operation) in LOCAL_ONLY:
        return []
    mapper = _MAPPERS.get(service)
    if mapper is None:
        raise UnknownOperation(f"no IAM mapping for service {service}")
    return mapper(operation, call["region"], call.get("params", {}))


def _param(params: dict[str, Any], name: str, operation: str) -> str:
    value = params.get(name)
    if not value:
        raise UnknownOperation(f"{operation} recorded without {name}")
    return str(value)


def _dynamodb(operation: str, region: str, params: dict[str, Any]) -> list[Request]:
    def table(name: str) -> str:
        return arn("dynamodb", region, f"table/{name}")

    if operation in DYNAMODB_TABLE_OPS:
        resource = table(_param(params, "TableName", operation))
        if operation in ("Query", "Scan") and params.get("IndexName"):
            resource += f"/index/{params['IndexName']}"
        return [Request(f"dynamodb:{operation}", resource)]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        items = params.get("TransactItems") or []
        if not items:
            raise UnknownOperation(f"{operation} recorded without its items")
        return [Request(f"dynamodb:{TRANSACT_ACTIONS[kind]}", table(name)) for kind, name in items]
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [Request(f"dynamodb:{operation}", table(n)) for n in params["RequestItems"]]
    if operation in ("ListTables", "ListStreams"):
        return [Request(f"dynamodb:{operation}", "*")]
    if operation in DYNAMODB_STREAM_OPS:
        return [Request(f"dynamodb:{operation}", _param(params, "StreamArn", operation))]
    raise UnknownOperation(f"no IAM mapping for dynamodb:{operation}")


def _s3(operation: str, region: str, params: dict[str, Any]) -> list[Request]:
    if operation == "ListBuckets":
        return [Request("s3:ListAllMyBuckets", "*")]
    bucket = _param(params, "Bucket", operation)
    if operation in S3_BUCKET_OPS:
        return [Request(f"s3:{S3_BUCKET_OPS[operation]}", f"arn:{PARTITION}:s3:::{bucket}")]
    if operation in S3_OBJECT_OPS:
        plain, versioned = S3_OBJECT_OPS[operation]
        action = versioned if params.get("VersionId") else plain
        key = _param(params, "Key", operation)
        return [Request(f"s3:{action}", f"arn:{PARTITION}:s3:::{bucket}/{key}")]
    if operation == "DeleteObjects":
        # IAM checks each key as its own DeleteObject(Version).
        return [
            Request(
                "s3:DeleteObjectVersion" if version else "s3:DeleteObject",
                f"arn:{PARTITION}:s3:::{bucket}/{key}",
            )
            for key, version in params.get("Objects", [])
        ]
    raise UnknownOperation(f"no IAM mapping for s3:{operation}")


def _cognito(operation: str, region: str, params: dict[str, Any]) -> list[Request]:
    if operation in COGNITO_UNAUTHENTICATED:
        return []
    if operation == "CreateUserPool":
        return [Request("cognito-idp:CreateUserPool", "*")]
    if operation.startswith("Admin") or operation in COGNITO_POOL_OPS:
        pool = _param(params, "UserPoolId", operation)
        # A pool id starts with its region.
        pool_region = pool.split("_", 1)[0] if "_" in pool else region
        resource = arn("cognito-idp", pool_region, f"userpool/{pool}")
        return [Request(f"cognito-idp:{operation}", resource)]
    raise UnknownOperation(f"no IAM mapping for cognito-idp:{operation}")


def _secretsmanager(operation: str, region: str, params: dict[str, Any]) -> list[Request]:
    if operation not in SECRETS_OPS:
        raise UnknownOperation(f"no IAM mapping for secretsmanager:{operation}")
    secret = _param(params, "SecretId", operation)
    if not secret.startswith("arn:"):
        # A secret's ARN ends with a random six-character suffix the name omits.
        secret = arn("secretsmanager", region, f"secret:{secret}-AbCdEf")
    return [Request(f"secretsmanager:{operation}", secret)]


def _cloudwatch(operation: str, region: str, params: dict[str, Any]) -> list[Request]:
    if operation not in CLOUDWATCH_OPS:
        raise UnknownOperation(f"no IAM mapping for cloudwatch:{operation}")
    # CloudWatch metrics have no resource-level permissions.
    return [Request(f"cloudwatch:{operation}", "*")]


def _sqs(operation: str, region: str, params: dict[str, Any]) -> list[Request]:
    if operation == "CreateQueue" or operation not in SQS_QUEUE_OPS:
        raise UnknownOperation(f"no IAM mapping for sqs:{operation}")
    name = params.get("QueueName") or _param(params, "QueueUrl", operation).rsplit("/", 1)[-1]
    return [Request(f"sqs:{operation}", arn("sqs", region, name))]


_MAPPERS: dict[str, Callable[[str, str, dict[str, Any]], list[Request]]] = {
    "dynamodb": _dynamodb,
    "dynamodbstreams": _dynamodb,
    "s3": _s3,
    "cognito-idp": _cognito,
    "secretsmanager": _secretsmanager,
    "cloudwatch": _cloudwatch,
    "sqs": _sqs,
}


# --- identity policy evaluation ------------------------------------------------


@cache
def _pattern(glob: str, *, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _matches_any(globs: Iterable[str], value: str, *, ignore_case: bool) -> bool:
    return any(_pattern(g, ignore_case=ignore_case).fullmatch(value) for g in globs)


def statement_applies(statement: dict[str, Any], request: Request) -> bool:
    """Whether a statement's Action/NotAction and Resource/NotResource cover the request.

    A Condition is not evaluated: an Allow with one never applies and a Deny
    with one always does, so that the check errs towards refusing.
    """
    if "Condition" in statement:
        return statement.get("Effect") == "Deny"
    if "Action" in statement:
        action_ok = _matches_any(_listed(statement["Action"]), request.action, ignore_case=True)
    elif "NotAction" in statement:
        action_ok = not _matches_any(
            _listed(statement["NotAction"]), request.action, ignore_case=True
        )
    else:
        return False
    if "Resource" in statement:
        resource_ok = _matches_any(
            _listed(statement["Resource"]), request.resource, ignore_case=False
        )
    elif "NotResource" in statement:
        resource_ok = not _matches_any(
            _listed(statement["NotResource"]), request.resource, ignore_case=False
        )
    else:
        return False
    return action_ok and resource_ok


def decide(documents: Iterable[dict[str, Any]], request: Request) -> str:
    """'allowed', 'explicit deny' or 'implicit deny' under identity policies."""
    allowed = False
    for document in documents:
        statements = document.get("Statement", [])
        for statement in [statements] if isinstance(statements, dict) else statements:
            if not statement_applies(statement, request):
                continue
            if statement.get("Effect") == "Deny":
                return "explicit deny"
            if statement.get("Effect") == "Allow":
                allowed = True
    return "allowed" if allowed else "implicit deny"


def violations(
    calls: Iterable[dict[str, Any]],
    documents_for: Callable[[str], list[dict[str, Any]]],
) -> list[Violation]:
    """Every recorded call (or part of one) the role of its process's region may not make."""
    found: list[Violation] = []
    for call in calls:
        try:
            requests = requests_for(call)
        except UnknownOperation as exc:
            found.append(Violation(call, f"{call['service']}:{call['operation']}", "?", str(exc)))
            continue
        documents = documents_for(call["role_region"]) if requests else []
        for request in requests:
            decision = decide(documents, request)
            if decision != "allowed":
                found.append(Violation(call, request.action, request.resource, decision))
    return found


def attributed(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls of a log, each with the test whose start marker came last before it."""
    calls: list[dict[str, Any]] = []
    test = None
    for line in lines:
        if "test" in line and "operation" not in line:
            test = line["test"]
        else:
            calls.append({**line, "test": test})
    return calls


# --- the template's documents, in the local names ---------------------------------


def local_parameters(region: str, *, pool_ids: dict[str, str]) -> dict[str, str]:
    """The regional template's parameters for the local stack (phase 2: the peer pool known)."""
    from django.conf import settings

    primary, secondary = settings.MRA_PRIMARY_REGION, settings.MRA_SECONDARY_REGION
    peer = secondary if region == primary else primary
    return {
        "AWS::AccountId": ACCOUNT,
        "AppName": settings.MRA_APP_ID,
        "TablePrefix": settings.MRA_TABLE_PREFIX,
        "PrimaryRegion": primary,
        "SecondaryRegion": secondary,
        "DomainName": "photos.example.com",
        "HostedZoneId": "Z0123456789EXAMPLE",
        "AlarmEmail": "oncall@example.com",
        "EnableReplication": "true",
        # A region whose pool no recorded call named has no pool call to judge.
        "PeerUserPoolId": pool_ids.get(peer, NO_POOL_CALLED),
        "UserPoolId": pool_ids.get(region, NO_POOL_CALLED),
        "MediaBucketName": settings.MRA_MEDIA_BUCKET.format(region=region),
    }


def template_documents(region: str, *, pool_ids: dict[str, str]) -> list[dict[str, Any]]:
    """The identity policies of the site role of `region`, from regional.yaml,
    with the local bucket names in its S3 resources."""
    from django.conf import settings

    from devstack.iam import site_role_documents

    regions = (settings.MRA_PRIMARY_REGION, settings.MRA_SECONDARY_REGION)
    _trust, policies = site_role_documents(
        region,
        parameters=local_parameters(region, pool_ids=pool_ids),
        media_buckets={r: settings.MRA_MEDIA_BUCKET.format(region=r) for r in regions},
    )
    return [document for _name, document in policies]


def pool_ids_seen(calls: Iterable[dict[str, Any]]) -> dict[str, str]:
    """{region: user pool id} as the recorded calls named them."""
    seen: dict[str, str] = {}
    for call in calls:
        pool = call.get("params", {}).get("UserPoolId")
        if pool and call["service"] == "cognito-idp":
            seen.setdefault(call["region"], pool)
    return seen


def check_log(lines: list[dict[str, Any]]) -> list[Violation]:
    """Check every call of a log against the template's site role policies."""
    calls = attributed(lines)
    pool_ids = pool_ids_seen(calls)
    documents = cache(lambda region: template_documents(region, pool_ids=pool_ids))
    return violations(calls, documents)
