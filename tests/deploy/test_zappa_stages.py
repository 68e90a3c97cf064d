"""What Zappa deploys for each stage, rendered offline by Zappa itself, against
the role regional.yaml creates for it: API Gateway must be able to invoke the
function, and nothing more."""

import fnmatch
import json
from pathlib import Path

import pytest
from zappa.cli import ZappaCLI

from deploy import stage_settings
from tests.deploy.templates import DEPLOY, load, resolve

SETTINGS = DEPLOY / "zappa_settings.json"
STAGES = ("primary", "secondary")


def _render(stage: str, out: Path) -> tuple[ZappaCLI, str, dict]:
    """`zappa template STAGE -l FUNCTION_ARN -r ROLE_ARN`, as its CLI runs it."""
    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(settings_file=str(SETTINGS))
    role_arn = cli.stage_config["role_arn"]
    account = role_arn.split(":")[4]
    function_arn = f"arn:aws:lambda:{cli.aws_region}:{account}:function:{cli.lambda_name}"
    cli.template(function_arn, role_arn, output=str(out))
    return cli, function_arn, json.loads(out.read_text())


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, tuple[ZappaCLI, str, dict]]:
    """Both stages, rendered once. No AWS call is made, but Zappa builds a boto
    session, so it gets dummy credentials."""
    out = tmp_path_factory.mktemp("zappa")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.delenv("AWS_PROFILE", raising=False)
        return {stage: _render(stage, out / f"{stage}.json") for stage in STAGES}


def _integrations(template: dict) -> list[dict]:
    return [
        r["Properties"]["Integration"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Method"
    ]


def _regional_role(region: str, account: str) -> dict:
    regional = load("regional.yaml")
    params = {
        **{k: str(v["Default"]) for k, v in regional["Parameters"].items() if "Default" in v},
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": "aws",
        "PeerUserPoolId": "",
    }
    role = regional["Resources"]["SiteRole"]["Properties"]
    return resolve(role, params, regional["Conditions"])


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _grants(statement: dict, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action, a) for a in _as_list(statement["Action"]))


@pytest.mark.parametrize("stage", STAGES)
def test_api_gateway_may_invoke_exactly_the_stages_function(stage, rendered):
    cli, function_arn, template = rendered[stage]
    integrations = _integrations(template)
    assert integrations, "Zappa rendered no API Gateway method"
    uri = (
        f"arn:aws:apigateway:{cli.aws_region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations"
    )
    credentials = {i["Credentials"] for i in integrations}
    assert {i["Uri"] for i in integrations} == {uri}
    (role_arn,) = credentials
    account = role_arn.split(":")[4]
    role = _regional_role(cli.aws_region, account)
    # The integration's credentials are the role regional.yaml makes in this region.
    assert role_arn == f"arn:aws:iam::{account}:role/{role['RoleName']}"

    trusted = [
        s
        for s in role["AssumeRolePolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
        and _grants(s, "sts:AssumeRole")
        and "apigateway.amazonaws.com" in _as_list(s["Principal"].get("Service", []))
    ]
    assert trusted, f"{role['RoleName']} does not trust apigateway.amazonaws.com"
    for statement in trusted:
        for condition in statement.get("Condition", {}).values():
            assert condition.get("aws:SourceAccount", account) == account

    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    invoking = [s for s in statements if _grants(s, "lambda:InvokeFunction")]
    assert invoking, f"{role['RoleName']} may not lambda:InvokeFunction"
    resources = [r for s in invoking for r in _as_list(s["Resource"])]
    assert resources == [function_arn] * len(invoking), resources
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in invoking)


def _regional_resource(name: str, region: str) -> dict:
    regional = load("regional.yaml")
    params = {
        **{k: str(v["Default"]) for k, v in regional["Parameters"].items() if "Default" in v},
        "AWS::Region": region,
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
    }
    return resolve(regional["Resources"][name]["Properties"], params, regional["Conditions"])


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_has_log_groups_with_retention_and_reserved_concurrency(stage, rendered):
    cli, _, _ = rendered[stage]
    # The function's log group is the one Lambda writes to, created with a retention.
    logs = _regional_resource("SiteLogGroup", cli.aws_region)
    assert logs["LogGroupName"] == f"/aws/lambda/{cli.lambda_name}"
    assert int(logs["RetentionInDays"]) >= 30
    access = _regional_resource("ApiAccessLogGroup", cli.aws_region)
    assert access["LogGroupName"] == f"/aws/apigateway/{cli.lambda_name}-access"
    assert int(access["RetentionInDays"]) >= 30
    # Zappa puts the function's reserved concurrency from this setting.
    assert isinstance(cli.lambda_concurrency, int) and 0 < cli.lambda_concurrency <= 900


def test_stage_settings_patch_access_logs_and_throttling():
    arn = "arn:aws:logs:us-west-2:123456789012:log-group:/aws/apigateway/mra-secondary-access"
    operations = stage_settings.patch_operations(arn + ":*", rate=200, burst=400)
    by_path = {o["path"]: o["value"] for o in operations}
    assert all(o["op"] == "replace" for o in operations)
    assert by_path["/accessLogSettings/destinationArn"] == arn
    log_format = json.loads(by_path["/accessLogSettings/format"])
    assert log_format["requestId"] == "$context.requestId"
    assert by_path["/*/*/throttling/rateLimit"] == "200"
    assert by_path["/*/*/throttling/burstLimit"] == "400"
    for bad in ("", "/aws/apigateway/x", "arn:aws:s3:::bucket"):
        with pytest.raises(ValueError):
            stage_settings.patch_operations(bad, rate=200, burst=400)
    with pytest.raises(ValueError):
        stage_settings.patch_operations(arn, rate=0, burst=400)
