import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from mra_site.aws.clients import client
from mra_site.aws.cognito import pool_config
from mra_site.resources import TABLES
from tests.conftest import PRIMARY, SECONDARY


def run_bootstrap(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("mra_bootstrap", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def wiped(emulators):
    """Both emulators empty, and wiped again after the test, so that the demo
    data it bootstraps never becomes the baseline other tests are reset to."""
    for emulator in emulators.values():
        emulator.reset()
    yield emulators
    for emulator in emulators.values():
        emulator.reset()


# A whole bootstrap of both regions: the slow tier's.
@pytest.mark.slow
def test_bootstrap_creates_configured_resources_in_both_regions(wiped):
    first = run_bootstrap("--demo")
    assert "created bucket mra-media-us-east-1" in first
    assert "created bucket mra-media-us-west-2" in first
    for region in (PRIMARY, SECONDARY):
        s3 = client("s3", region)
        bucket = f"mra-media-{region}"
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())
        origins = s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"]
        assert sorted(origins) == sorted(settings.MRA_REGION_URLS.values())
        ddb = client("dynamodb", region)
        for spec in TABLES:
            table = ddb.describe_table(TableName=spec.name)["Table"]
            assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
            assert table["StreamSpecification"] == {
                "StreamEnabled": True,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            }
        config = pool_config(region)
        idp = client("cognito-idp", region)
        app = idp.describe_user_pool_client(UserPoolId=config.pool_id, ClientId=config.client_id)
        flows = set(app["UserPoolClient"]["ExplicitAuthFlows"])
        assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= flows
        groups = idp.list_groups(UserPoolId=config.pool_id)["Groups"]
        assert [g["GroupName"] for g in groups] == ["operators"]
        operators = idp.list_users_in_group(UserPoolId=config.pool_id, GroupName="operators")
        assert [u["Username"] for u in operators["Users"]] == ["operator"]

    second = run_bootstrap("--demo")
    assert "created" not in second
    assert "Nothing to change" in second
    pools = client("cognito-idp", PRIMARY).list_user_pools(MaxResults=60)["UserPools"]
    assert len(pools) == 1


def test_demo_is_refused_against_real_aws(aws, settings):
    settings.MRA_AWS_ENDPOINTS = {PRIMARY: aws[PRIMARY].url, SECONDARY: ""}
    with pytest.raises(CommandError, match="refused against real AWS.*us-west-2"):
        run_bootstrap("--demo")


def test_bootstrap_names_the_region_it_cannot_reach(aws, settings):
    settings.MRA_AWS_ENDPOINTS = {**settings.MRA_AWS_ENDPOINTS, SECONDARY: "http://127.0.0.1:9"}
    with pytest.raises(CommandError, match="us-west-2"):
        run_bootstrap("--wait", "1")
