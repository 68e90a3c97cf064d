"""The regional template's tables, roles and buckets, created by CloudFormation
in an emulated region, are what the application expects."""

import json
import uuid

import pytest

from mra_site.aws.clients import client
from mra_site.resources import TABLES
from tests.conftest import PRIMARY, SECONDARY
from tests.deploy.templates import reduced_regional

PARAMETERS = {
    "AppName": "cfntest",
    # Apart from the tables the `aws` fixture bootstraps.
    "TablePrefix": "cfntest-",
    "PrimaryRegion": PRIMARY,
    "SecondaryRegion": SECONDARY,
    "DomainName": "photos.example.com",
    "HostedZoneId": "Z0123456789EXAMPLE",
    "AlarmEmail": "alarms@example.com",
}


@pytest.fixture
def regional_stack(aws, reset_after, settings):
    """Deploy the reduced regional template to the primary region; delete it after."""
    # The emulator creates the whole stack inside CreateStack; a retry after the
    # site's short read timeout would find the stack already there.
    settings.MRA_AWS_READ_TIMEOUT = 120
    settings.MRA_AWS_MAX_ATTEMPTS = 1
    cfn = client("cloudformation", PRIMARY)
    name = f"mra-regional-{uuid.uuid4().hex[:8]}"
    template = reduced_regional()
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    yield template, stack
    cfn.delete_stack(StackName=name)


def _keys(schema: list[dict]) -> tuple[str, str | None]:
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    return keys["HASH"], keys.get("RANGE")


def test_the_emulator_creates_the_tables_the_app_expects(regional_stack):
    template, stack = regional_stack
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    created_types = {r["Type"] for r in template["Resources"].values()}
    assert created_types == {"AWS::DynamoDB::Table", "AWS::IAM::Role", "AWS::S3::Bucket"}
    ddb = client("dynamodb", PRIMARY)
    for spec in TABLES:
        table = ddb.describe_table(TableName=f"{PARAMETERS['TablePrefix']}{spec.key}")["Table"]
        assert _keys(table["KeySchema"]) == (spec.hash_key, spec.range_key)
        assert table["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        indexes = {
            i["IndexName"]: _keys(i["KeySchema"]) for i in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {i.name: (i.hash_key, i.range_key) for i in spec.indexes}


def test_the_emulator_creates_the_buckets_and_roles(regional_stack):
    _, stack = regional_stack
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    account = outputs["SiteRoleArn"].split(":")[4]
    media = f"cfntest-media-{account}-{PRIMARY}"
    assert outputs["MediaBucketName"] == media
    s3 = client("s3", PRIMARY)
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {media, f"cfntest-static-{account}-{PRIMARY}"} <= names
    encryption = s3.get_bucket_encryption(Bucket=media)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    iam = client("iam", PRIMARY)
    role_names = {f"cfntest-site-{PRIMARY}", f"cfntest-media-replication-{PRIMARY}"}
    for role_name in role_names:
        assert iam.get_role(RoleName=role_name)["Role"]["Arn"].endswith(f"role/{role_name}")
    policies = {
        p: iam.get_role_policy(RoleName=f"cfntest-site-{PRIMARY}", PolicyName=p)["PolicyDocument"]
        for p in iam.list_role_policies(RoleName=f"cfntest-site-{PRIMARY}")["PolicyNames"]
    }
    granted = json.dumps(policies["tables"])
    for spec in TABLES:
        assert f":dynamodb:{PRIMARY}:{account}:table/cfntest-{spec.key}" in granted
        assert f":table/cfntest-{spec.key}/stream/*" in granted
    assert f"arn:aws:s3:::{media}/*" in json.dumps(policies["media"])
