"""The emulated regions enforce IAM: the site's role may do what the template
allows it and nothing else; unknown and unsigned callers get nothing."""

import pytest
import requests
from django.test import override_settings

from mra_site.aws.clients import clear_client_cache, client, dynamodb_table
from mra_site.resources import media_bucket, table_name
from tests.conftest import PRIMARY, SECONDARY

SITE_ROLE = f"mra-site-{PRIMARY}"
PHOTO_ITEM = {"pk": {"S": "PHOTO#iam-check"}, "sk": {"S": "META"}}


def _code(excinfo) -> str:
    return excinfo.value.response["Error"]["Code"]


def _refused(service: str, region: str):
    return pytest.raises(client(service, region).exceptions.ClientError)


@pytest.fixture
def as_site(aws):
    """Clients of this block sign as the primary's site: its role, assumed."""
    with override_settings(MRA_AWS_ASSUME_ROLE=SITE_ROLE):
        yield


def test_the_sites_role_may_do_what_the_template_allows_and_nothing_more(as_site):
    state = table_name("state")
    dynamodb_table(SECONDARY, state).put_item(Item={"app_id": "iam-check"})
    assert dynamodb_table(SECONDARY, state).get_item(Key={"app_id": "iam-check"})["Item"]
    client("s3", PRIMARY).put_object(Bucket=media_bucket(PRIMARY), Key="photos/x", Body=b"1")

    with _refused("dynamodb", PRIMARY) as refused:
        client("dynamodb", PRIMARY).delete_table(TableName=state)
    assert _code(refused) == "AccessDeniedException"
    # The peer's photos are only scanned there, never written: checked per item.
    with _refused("dynamodb", SECONDARY) as refused:
        client("dynamodb", SECONDARY).transact_write_items(
            TransactItems=[
                {"Put": {"TableName": state, "Item": {"app_id": {"S": "iam-check"}}}},
                {"Put": {"TableName": table_name("photos"), "Item": PHOTO_ITEM}},
            ]
        )
    assert _code(refused) == "AccessDeniedException"
    with _refused("s3", PRIMARY) as refused:
        client("s3", PRIMARY).put_object(Bucket=media_bucket(SECONDARY), Key="photos/x", Body=b"1")
    assert _code(refused) == "AccessDenied"
    deleted = client("s3", SECONDARY).delete_objects(
        Bucket=media_bucket(SECONDARY), Delete={"Objects": [{"Key": "photos/x"}]}
    )
    assert [e["Code"] for e in deleted["Errors"]] == ["AccessDenied"]


def test_unknown_and_unsigned_callers_are_refused(aws):
    with override_settings(MRA_AWS_LOCAL_ACCESS_KEY_ID="AKIAUNKNOWNCALLER001"):
        clear_client_cache()
        try:
            with _refused("dynamodb", PRIMARY) as refused:
                client("dynamodb", PRIMARY).describe_table(TableName=table_name("state"))
        finally:
            clear_client_cache()
    assert _code(refused) == "UnrecognizedClientException"
    unsigned = requests.post(
        aws[PRIMARY].url,
        data="{}",
        headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
        timeout=10,
    )
    assert unsigned.status_code in (400, 403)
    assert "ListTables" not in unsigned.text and "TableNames" not in unsigned.text
