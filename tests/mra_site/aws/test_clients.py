import socket
import time

import pytest

from mra_site.aws import clients
from mra_site.aws import credentials as credentials_module
from mra_site.aws.clients import PROBE_READ_TIMEOUT, aws_call, client, dynamodb_table, fail_fast
from mra_site.aws.errors import RegionUnavailable, ResourceMissing
from tests.conftest import PRIMARY, SECONDARY


def test_a_bucket_created_through_the_secondary_exists_only_there(aws):
    with aws_call(SECONDARY, "create bucket"):
        client("s3", SECONDARY).create_bucket(
            Bucket="only-in-secondary",
            CreateBucketConfiguration={"LocationConstraint": SECONDARY},
        )
    secondary = {b["Name"] for b in client("s3", SECONDARY).list_buckets()["Buckets"]}
    primary = {b["Name"] for b in client("s3", PRIMARY).list_buckets()["Buckets"]}
    assert "only-in-secondary" in secondary
    assert "only-in-secondary" not in primary


def test_an_item_written_in_one_region_is_not_in_the_other(aws):
    dynamodb_table(PRIMARY, "mra-canary").put_item(Item={"app_id": "probe", "n": 1})
    assert "Item" in dynamodb_table(PRIMARY, "mra-canary").get_item(Key={"app_id": "probe"})
    assert "Item" not in dynamodb_table(SECONDARY, "mra-canary").get_item(Key={"app_id": "probe"})


def test_clients_are_cached_per_service_and_region(aws):
    assert client("s3", PRIMARY) is client("s3", PRIMARY)
    assert client("s3", PRIMARY) is not client("s3", SECONDARY)
    assert client("s3", PRIMARY).meta.endpoint_url == aws[PRIMARY].url


def test_a_dead_region_fails_fast_with_the_project_exception(aws, settings):
    settings.MRA_AWS_ENDPOINTS = {**settings.MRA_AWS_ENDPOINTS, PRIMARY: "http://127.0.0.1:9"}
    dynamodb = client("dynamodb", PRIMARY)
    attempts = []
    dynamodb.meta.events.register("before-send", lambda **kwargs: attempts.append(1))
    with pytest.raises(RegionUnavailable) as info, aws_call(PRIMARY, "list tables"):
        dynamodb.list_tables()
    # The first try and botocore's retries (its max_attempts counts retries).
    assert len(attempts) <= settings.MRA_AWS_MAX_ATTEMPTS + 1
    assert info.value.region == PRIMARY


def test_a_hung_region_is_asked_once_with_the_short_timeout_when_failing_fast(aws, settings):
    # Connections are accepted (the kernel's backlog) and never answered: a frozen process.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        settings.MRA_AWS_ENDPOINTS = {**settings.MRA_AWS_ENDPOINTS, PRIMARY: url}
        with fail_fast():
            dynamodb = client("dynamodb", PRIMARY)
            attempts = []
            dynamodb.meta.events.register("before-send", lambda **kwargs: attempts.append(1))
            with pytest.raises(RegionUnavailable), aws_call(PRIMARY, "list tables"):
                dynamodb.list_tables()
    assert attempts == [1]
    assert dynamodb.meta.config.read_timeout == PROBE_READ_TIMEOUT
    assert client("dynamodb", PRIMARY) is not dynamodb


def test_a_region_that_did_not_answer_is_not_asked_again_during_its_cooldown(aws, settings):
    settings.MRA_AWS_REGION_COOLDOWN = 30
    settings.MRA_AWS_ENDPOINTS = {**settings.MRA_AWS_ENDPOINTS, PRIMARY: "http://127.0.0.1:9"}
    with pytest.raises(RegionUnavailable), aws_call(PRIMARY, "list tables"):
        client("dynamodb", PRIMARY).list_tables()
    with pytest.raises(RegionUnavailable, match="not asked again"), aws_call(PRIMARY, "list"):
        raise AssertionError("the call must not be attempted")
    # The other region, and the region at another endpoint, are asked as usual.
    with aws_call(SECONDARY, "list tables"):
        client("dynamodb", SECONDARY).list_tables()
    settings.MRA_AWS_ENDPOINTS = {**settings.MRA_AWS_ENDPOINTS, PRIMARY: aws[PRIMARY].url}
    with aws_call(PRIMARY, "list tables"):
        client("dynamodb", PRIMARY).list_tables()


def test_a_region_is_asked_again_once_its_cooldown_has_passed(aws, settings):
    settings.MRA_AWS_REGION_COOLDOWN = 0.2
    settings.MRA_AWS_ENDPOINTS = {**settings.MRA_AWS_ENDPOINTS, PRIMARY: "http://127.0.0.1:9"}
    with pytest.raises(RegionUnavailable), aws_call(PRIMARY, "list tables"):
        client("dynamodb", PRIMARY).list_tables()
    time.sleep(0.3)
    with pytest.raises(RegionUnavailable) as info, aws_call(PRIMARY, "list tables"):
        client("dynamodb", PRIMARY).list_tables()
    assert "not asked again" not in str(info.value)


def test_missing_resources_become_resource_missing(aws):
    with pytest.raises(ResourceMissing), aws_call(PRIMARY, "head bucket"):
        client("s3", PRIMARY).head_object(Bucket="mra-media-us-east-1", Key="nope")


def test_s3_uses_path_style_addressing_against_an_endpoint(aws):
    url = client("s3", PRIMARY).generate_presigned_url(
        "get_object", Params={"Bucket": "mra-media-us-east-1", "Key": "k"}, ExpiresIn=60
    )
    assert url.startswith(f"{aws[PRIMARY].url}/mra-media-us-east-1/k?")


def test_bulk_calls_wait_longer_for_an_answer_and_fail_fast_still_wins(settings):
    settings.MRA_AWS_READ_TIMEOUT = 2.5
    read_timeout = 3  # (region, endpoint, connect, read, attempts, role)
    assert clients._options(PRIMARY)[read_timeout] == 2.5
    with clients.bulk():
        assert clients._options(PRIMARY)[read_timeout] == clients.BULK_READ_TIMEOUT
        with clients.fail_fast():
            assert clients._options(PRIMARY)[read_timeout] == clients.PROBE_READ_TIMEOUT
    assert clients._options(PRIMARY)[read_timeout] == 2.5


class Remembered:
    forgotten = 0

    def forget(self) -> None:
        self.forgotten += 1


@pytest.mark.parametrize(
    ("code", "retried"),
    [
        ("InvalidAccessKeyId", True),  # an emulator that restarted, on a GET or a PUT
        ("403", True),  # the same on HEAD, whose answer names no code
        ("AccessDenied", False),  # a policy's refusal is not a lost session
        ("404", False),
    ],
)
def test_a_session_the_emulator_no_longer_knows_is_assumed_again_once(code, retried):
    credentials = Remembered()
    response = (None, {"Error": {"Code": code}})
    first = credentials_module._reassume_if_rejected(credentials, response, attempts=1)
    assert (first == 0) is retried and credentials.forgotten == int(retried)
    # The retry is the only one: a second refusal is the answer.
    assert credentials_module._reassume_if_rejected(credentials, response, attempts=2) is None
