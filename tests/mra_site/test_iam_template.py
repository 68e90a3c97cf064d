"""The site's role as the CloudFormation template declares it, resolved offline."""

from devstack.iam import (
    LOCAL_ADMIN_ARN,
    site_role_documents,
    site_role_name,
    with_local_trust,
)

PARAMETERS = {"UserPoolId": "us-east-1_Own", "PeerUserPoolId": "us-west-2_Peer"}


def _statements(policies):
    return [s for _, doc in policies for s in doc["Statement"]]


def _resources(policies, action):
    found = []
    for statement in _statements(policies):
        actions = statement["Action"]
        if action in ([actions] if isinstance(actions, str) else actions):
            resources = statement["Resource"]
            found += [resources] if isinstance(resources, str) else resources
    return found


def test_every_intrinsic_is_resolved_for_the_region_and_its_peer():
    trust, policies = site_role_documents("us-east-1", parameters=PARAMETERS)

    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert "Fn::" not in repr(policies) and "${" not in repr(policies)
    put = _resources(policies, "dynamodb:PutItem")
    assert "arn:aws:dynamodb:us-east-1:123456789012:table/mra-photos" in put
    assert "arn:aws:dynamodb:us-west-2:123456789012:table/mra-state" in put
    assert "arn:aws:dynamodb:us-west-2:123456789012:table/mra-photos" not in put
    assert "arn:aws:s3:::mra-media-123456789012-us-east-1/*" in _resources(policies, "s3:PutObject")
    assert _resources(policies, "cognito-idp:AdminCreateUser") == [
        "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_Own",
        "arn:aws:cognito-idp:us-west-2:123456789012:userpool/us-west-2_Peer",
    ]
    assert site_role_name("us-west-2", parameters={}) == "mra-site-us-west-2"


def test_the_secondary_points_at_the_primary_and_parameters_apply():
    _, policies = site_role_documents(
        "us-west-2",
        parameters={"UserPoolId": "us-west-2_Own", "TablePrefix": "t-"},
    )
    put = _resources(policies, "dynamodb:PutItem")
    assert "arn:aws:dynamodb:us-east-1:123456789012:table/t-state" in put
    assert all(":table/t-" in arn for arn in put)
    # No peer pool yet (phase 1): the !If falls to AWS::NoValue and the statement goes.
    assert not any(s.get("Sid") == "ProvisionSignUpsInPeerPool" for s in _statements(policies))


def test_local_bucket_names_replace_the_templates_in_every_s3_arn():
    _, policies = site_role_documents(
        "us-east-1",
        parameters=PARAMETERS,
        media_buckets={"us-east-1": "mra-media-us-east-1", "us-west-2": "mra-media-us-west-2"},
    )
    resources = set()
    for statement in _statements(policies):
        listed = statement["Resource"]
        resources |= {listed} if isinstance(listed, str) else set(listed)
    assert {arn for arn in resources if arn.startswith("arn:aws:s3")} == {
        "arn:aws:s3:::mra-media-us-east-1",
        "arn:aws:s3:::mra-media-us-east-1/*",
        "arn:aws:s3:::mra-media-us-west-2/canary/*",
    }


def test_the_local_trust_statement_is_added_once():
    trust, _ = site_role_documents("us-east-1", parameters=PARAMETERS)
    twice = with_local_trust(with_local_trust(trust))
    assert [s["Principal"] for s in twice["Statement"]] == [
        {"Service": "lambda.amazonaws.com"},
        {"Service": "apigateway.amazonaws.com"},
        {"AWS": LOCAL_ADMIN_ARN},
    ]
