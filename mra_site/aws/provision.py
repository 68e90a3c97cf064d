"""Idempotent creation of a region's resources (local emulator or a fresh account).

One concern, kept apart from the service modules: creating resources is the
bootstrap's business only, and nothing that serves requests calls it. Each
function here speaks to one AWS service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from mra_site.resources import TableSpec

from .clients import aws_call, client

if TYPE_CHECKING:
    from types_boto3_s3.type_defs import CORSRuleTypeDef, PublicAccessBlockConfigurationTypeDef


def ensure_bucket(*, region: str, bucket: str, cors_origins: list[str]) -> bool:
    """Create the media bucket with versioning, CORS and public access blocked.

    Returns True when anything was created or changed.
    """
    s3 = client("s3", region)
    changed = False
    with aws_call(region, f"create bucket {bucket}"):
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            kwargs: dict[str, Any] = {"Bucket": bucket}
            if region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**kwargs)
            changed = True
        if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            changed = True
        block: PublicAccessBlockConfigurationTypeDef = {
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        }
        try:
            current = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except s3.exceptions.ClientError:
            current = {}
        if current != block:
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=block)
            changed = True
        cors_rules: list[CORSRuleTypeDef] = [
            {
                "AllowedOrigins": sorted(cors_origins),
                "AllowedMethods": ["GET", "HEAD"],
                "AllowedHeaders": ["*"],
                "MaxAgeSeconds": 3600,
            }
        ]
        try:
            current_cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
        except s3.exceptions.ClientError:
            current_cors = []
        comparable = [
            {k: (sorted(v) if isinstance(v, list) else v) for k, v in rule.items() if k != "ID"}
            for rule in current_cors
        ]
        if comparable != cors_rules:
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors_rules})
            changed = True
    return changed


def ensure_table(*, region: str, spec: TableSpec) -> bool:
    """Create a PAY_PER_REQUEST table, with NEW_AND_OLD_IMAGES streams unless
    `spec.stream` is off."""
    ddb = client("dynamodb", region)
    with aws_call(region, f"create table {spec.name}"):
        try:
            ddb.describe_table(TableName=spec.name)
            return _ensure_ttl(ddb, spec)
        except ddb.exceptions.ResourceNotFoundException:
            pass
        attributes = {spec.hash_key}
        key_schema = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
        if spec.range_key:
            attributes.add(spec.range_key)
            key_schema.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
        indexes = []
        for index in spec.indexes:
            index_schema = [{"AttributeName": index.hash_key, "KeyType": "HASH"}]
            attributes.add(index.hash_key)
            if index.range_key:
                attributes.add(index.range_key)
                index_schema.append({"AttributeName": index.range_key, "KeyType": "RANGE"})
            indexes.append(
                {
                    "IndexName": index.name,
                    "KeySchema": index_schema,
                    "Projection": {"ProjectionType": "ALL"},
                }
            )
        kwargs: dict[str, Any] = {
            "TableName": spec.name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)
            ],
            "KeySchema": key_schema,
        }
        if spec.stream:
            kwargs["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            }
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        ddb.create_table(**kwargs)
        ddb.get_waiter("table_exists").wait(
            TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        _ensure_ttl(ddb, spec)
    return True


def _ensure_ttl(ddb: Any, spec: TableSpec) -> bool:
    """Turn on the spec's time to live, on a table made before it had one too."""
    if not spec.ttl_attribute:
        return False
    current = ddb.describe_time_to_live(TableName=spec.name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return False
    ddb.update_time_to_live(
        TableName=spec.name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
    )
    return True


def ensure_user_pool(*, region: str) -> tuple[str, str, bool]:
    """Create the user pool, its app client and the operators group.

    Returns (pool_id, client_id, changed).
    """
    from .cognito import find_pool_client, find_user_pool

    idp = client("cognito-idp", region)
    changed = False
    with aws_call(region, "create user pool"):
        pool_id = find_user_pool(region=region)
        if pool_id is None:
            pool_id = idp.create_user_pool(
                PoolName=settings.MRA_COGNITO_POOL_NAME,
                Policies={
                    "PasswordPolicy": {
                        "MinimumLength": 10,
                        "RequireUppercase": True,
                        "RequireLowercase": True,
                        "RequireNumbers": True,
                        "RequireSymbols": False,
                    }
                },
                UsernameConfiguration={"CaseSensitive": False},
                AdminCreateUserConfig={"AllowAdminCreateUserOnly": False},
                AutoVerifiedAttributes=["email"],
            )["UserPool"]["Id"]
            changed = True
        client_id = find_pool_client(region=region, pool_id=pool_id)
        if client_id is None:
            client_id = idp.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName=settings.MRA_COGNITO_CLIENT_NAME,
                GenerateSecret=False,
                ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                AccessTokenValidity=60,
                IdTokenValidity=60,
                RefreshTokenValidity=30,
                TokenValidityUnits={
                    "AccessToken": "minutes",
                    "IdToken": "minutes",
                    "RefreshToken": "days",
                },
                PreventUserExistenceErrors="ENABLED",
            )["UserPoolClient"]["ClientId"]
            changed = True
        groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id, Limit=60)["Groups"]}
        if settings.MRA_OPERATORS_GROUP not in groups:
            idp.create_group(
                UserPoolId=pool_id,
                GroupName=settings.MRA_OPERATORS_GROUP,
                Description="May change the routing state",
            )
            changed = True
    return pool_id, client_id, changed
