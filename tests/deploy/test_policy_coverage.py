"""Every AWS call the site and the canary make is one the site role's policy in
regional.yaml allows: what the emulator's IAM does not enforce (resource-level
DynamoDB and Cognito permissions, Conditions, the other region's IAM) is
checked on the recorded calls (mra_site/aws/calllog.py, devstack/policycheck.py)."""

import importlib.util
import io

import pytest
import requests
from django.test import override_settings
from PIL import Image

from devstack import policycheck
from devstack.policycheck import Request, decide, requests_for, violations
from mra_site.aws import calllog
from mra_site.aws.clients import clear_client_cache
from replication.canary import canary_lags, canary_tick
from tests.conftest import PRIMARY, SECONDARY

HAVE_IAM = importlib.util.find_spec("devstack.iam") is not None
NO_IAM = "devstack.iam (the template's policy documents) is not in this tree"
ACCOUNT = policycheck.ACCOUNT
PHOTOS = f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/mra-photos"
MEDIA = "arn:aws:s3:::mra-media-us-east-1"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "DynamoDB:PutItem", "dynamodb:Query"],
            "Resource": [PHOTOS, f"{PHOTOS}/index/*"],
        },
        {"Effect": "Allow", "Action": "s3:*Object", "Resource": f"{MEDIA}/*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"{MEDIA}/keep/*"},
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:sqs:*:*:q-???"},
        {
            "Effect": "Allow",
            "Action": "dynamodb:DeleteTable",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": PRIMARY}},
        },
    ],
}


def call(service: str, operation: str, region: str = PRIMARY, **params) -> dict:
    return {
        "service": service,
        "operation": operation,
        "region": region,
        "role_region": PRIMARY,
        "process": "site",
        "params": params,
    }


def refused(record: dict) -> list[tuple[str, str, str]]:
    return [(v.action, v.resource, v.reason) for v in violations([record], lambda r: [POLICY])]


def test_calls_are_named_as_iam_authorises_them():
    transact = call(
        "dynamodb", "TransactWriteItems", TransactItems=[["Put", "mra-photos"], ["Update", "a"]]
    )
    assert requests_for(transact) == [
        Request("dynamodb:PutItem", PHOTOS),
        Request("dynamodb:UpdateItem", f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/a"),
    ]
    query = call("dynamodb", "Query", TableName="mra-photos", IndexName="by-owner")
    assert requests_for(query) == [Request("dynamodb:Query", f"{PHOTOS}/index/by-owner")]
    head = call("s3", "HeadObject", Bucket="mra-media-us-east-1", Key="o/1")
    assert requests_for(head) == [Request("s3:GetObject", f"{MEDIA}/o/1")]
    versions = call("s3", "ListObjectVersions", Bucket="mra-media-us-east-1", Prefix="o/")
    assert requests_for(versions) == [Request("s3:ListBucketVersions", MEDIA)]
    batch = call(
        "s3", "DeleteObjects", Bucket="mra-media-us-east-1", Objects=[["a", "v1"], ["b", None]]
    )
    assert requests_for(batch) == [
        Request("s3:DeleteObjectVersion", f"{MEDIA}/a"),
        Request("s3:DeleteObject", f"{MEDIA}/b"),
    ]
    peer_pool = call("cognito-idp", "AdminCreateUser", UserPoolId=f"{SECONDARY}_Pool")
    assert requests_for(peer_pool) == [
        Request(
            "cognito-idp:AdminCreateUser",
            f"arn:aws:cognito-idp:{SECONDARY}:{ACCOUNT}:userpool/{SECONDARY}_Pool",
        )
    ]
    assert requests_for(call("cognito-idp", "InitiateAuth")) == []  # the password authorises it
    assert requests_for(call("sts", "AssumeRole")) == []  # local machinery


def test_calls_outside_the_policy_are_reported():
    assert refused(call("dynamodb", "PutItem", TableName="mra-photos")) == []
    assert (
        refused(call("s3", "GetObject", Bucket="mra-media-us-east-1", Key="x", VersionId="")) == []
    )
    # Another table, the peer's photos table, another bucket, an explicit deny.
    assert refused(call("dynamodb", "PutItem", TableName="mra-audit"))[0][2] == "implicit deny"
    assert refused(call("dynamodb", "PutItem", SECONDARY, TableName="mra-photos")) == [
        (
            "dynamodb:PutItem",
            f"arn:aws:dynamodb:{SECONDARY}:{ACCOUNT}:table/mra-photos",
            "implicit deny",
        )
    ]
    assert refused(call("s3", "PutObject", Bucket="mra-media-other", Key="x"))
    assert refused(call("s3", "DeleteObject", Bucket="mra-media-us-east-1", Key="keep/x")) == [
        ("s3:DeleteObject", f"{MEDIA}/keep/x", "explicit deny")
    ]
    # An unevaluated Condition does not allow; an unknown operation is a finding too.
    assert refused(call("dynamodb", "DeleteTable", TableName="mra-photos"))
    assert refused(call("dynamodb", "RestoreTableFromBackup", TableName="t"))[0][1] == "?"
    # Wildcards: `?` is one character; NotAction excludes what it names.
    assert refused(call("sqs", "GetQueueUrl", QueueName="q-abc")) == []
    assert refused(call("sqs", "GetQueueUrl", QueueName="q-abcd"))
    assert decide([POLICY], Request("s3:GetObject", "arn:aws:sqs:x:y:q-abc")) == "implicit deny"


def test_the_log_names_resources_and_never_carries_bodies_or_passwords():
    named = calllog.resource_params(
        "cognito-idp",
        "AdminSetUserPassword",
        {"UserPoolId": "p", "Username": "u", "Password": "Secret-1", "Permanent": True},
    )
    assert named == {"UserPoolId": "p"}
    put = {"Bucket": "b", "Key": "k", "Body": b"bytes", "Metadata": {"a": "b"}}
    assert calllog.resource_params("s3", "PutObject", put) == {"Bucket": "b", "Key": "k"}
    item = {"TableName": "t", "Key": {"pk": {"S": "x"}}, "Item": {"pk": {"S": "x"}}}
    assert calllog.resource_params("dynamodb", "PutItem", item) == {"TableName": "t"}
    transact = {
        "TransactItems": [
            {"Put": {"TableName": "a", "Item": {}}},
            {"ConditionCheck": {"TableName": "s", "Key": {}}},
        ]
    }
    assert calllog.resource_params("dynamodb", "TransactWriteItems", transact) == {
        "TransactItems": [["Put", "a"], ["ConditionCheck", "s"]]
    }


@pytest.mark.skipif(not HAVE_IAM, reason=NO_IAM)
def test_the_templates_policy_refuses_what_the_site_must_not_do():
    pools = {PRIMARY: f"{PRIMARY}_Own", SECONDARY: f"{SECONDARY}_Peer"}
    documents = policycheck.template_documents(PRIMARY, pool_ids=pools)

    def allowed(record: dict) -> bool:
        return not violations([record], lambda region: documents)

    assert allowed(call("dynamodb", "PutItem", TableName="mra-photos"))
    assert allowed(call("s3", "PutObject", Bucket="mra-media-us-east-1", Key="originals/x"))
    assert allowed(call("cognito-idp", "AdminCreateUser", SECONDARY, UserPoolId=pools[SECONDARY]))
    assert not allowed(call("dynamodb", "DeleteTable", TableName="mra-photos"))
    assert not allowed(call("dynamodb", "PutItem", SECONDARY, TableName="mra-photos"))
    assert not allowed(call("s3", "PutObject", Bucket="mra-media-us-west-2", Key="originals/x"))
    assert not allowed(call("cognito-idp", "AdminDeleteUser", UserPoolId=pools[PRIMARY]))


def png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(data, format="PNG")
    return data.getvalue()


def sign_in(site: str, username: str, password: str) -> dict[str, str]:
    response = requests.post(
        f"{site}/api/auth/token", json={"username": username, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def sign_up(site: str, username: str, password: str) -> None:
    browser = requests.Session()
    browser.get(f"{site}/accounts/signup/", timeout=30).raise_for_status()
    form = {"username": username, "email": f"{username}@example.com", "password": password}
    form["csrfmiddlewaretoken"] = browser.cookies["csrftoken"]
    response = browser.post(
        f"{site}/accounts/signup/", data=form, allow_redirects=False, timeout=30
    )
    assert response.status_code == 302, response.text


def site_flow(site: str, make_user) -> None:
    """Sign up, upload, comment, read, delete; an operator fences and unfences."""
    sign_up(site, "pia", "Sunny-days-42")
    user = sign_in(site, "pia", "Sunny-days-42")
    created = requests.post(
        f"{site}/api/photos",
        files={"image": ("p.png", png(), "image/png")},
        data={"title": "checked"},
        headers=user,
        timeout=30,
    )
    assert created.status_code == 201, created.text
    photo = f"{site}/api/photos/{created.json()['id']}"
    comment = requests.post(f"{photo}/comments", json={"message": "hi"}, headers=user, timeout=30)
    assert comment.status_code == 201, comment.text
    assert requests.get(photo, timeout=30).status_code == 200
    assert requests.get(f"{site}/api/photos", timeout=30).status_code == 200
    assert requests.delete(photo, headers=user, timeout=30).status_code == 204
    make_user("opal", "Operator-pass-1", operator=True)
    operator = sign_in(site, "opal", "Operator-pass-1")
    for state, version in (("fenced", 1), ("active", 2)):
        body = {"state": state, "expected_version": version, "reason": "policy check"}
        moved = requests.post(f"{site}/api/state", json=body, headers=operator, timeout=30)
        assert moved.status_code == 200, moved.text


def test_the_site_and_canary_make_only_calls_the_policy_allows(
    aws, sites, make_user, aws_call_log, request
):
    site_flow(sites[PRIMARY].url, make_user)
    # The canary runs in this process, recording like a site does.
    with override_settings(MRA_AWS_CALL_LOG=str(aws_call_log)), calllog.acting_as("canary"):
        clear_client_cache()
        try:
            canary_tick(seq=1)
            canary_lags()
        finally:
            clear_client_cache()

    calls = [
        c
        for c in policycheck.attributed(calllog.read(aws_call_log))
        if c["test"] == request.node.nodeid
    ]
    made = {
        (c["process"], r.action, r.resource)
        for c in calls
        for r in requests_for(c)  # raises on an operation with no mapping
    }
    needed = [
        ("site", "dynamodb:PutItem", PHOTOS),
        ("site", "dynamodb:DeleteItem", PHOTOS),
        ("site", "s3:PutObject", f"{MEDIA}/"),
        ("site", "s3:GetObject", f"{MEDIA}/"),  # the presigned URLs
        ("site", "cognito-idp:AdminCreateUser", f"arn:aws:cognito-idp:{SECONDARY}:"),
        ("canary", "dynamodb:PutItem", f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/mra-canary"),
        ("canary", "s3:PutObject", f"{MEDIA}/"),
    ]
    missing = [
        (process, action, prefix)
        for process, action, prefix in needed
        if not any(p == process and a == action and r.startswith(prefix) for p, a, r in made)
    ]
    assert not missing, f"the flow did not record {missing}"
    assert any(c["presigned"] for c in calls)
    assert {c["region"] for c in calls if c["service"] == "cognito-idp"} == {PRIMARY, SECONDARY}

    if not HAVE_IAM:
        pytest.skip(NO_IAM)
    found = policycheck.check_log([{"test": request.node.nodeid}, *calls])
    assert not found, "\n".join(v.describe() for v in found)
