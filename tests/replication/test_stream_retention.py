"""The emulator's DynamoDB Streams keep records 24 hours and iterators 15 minutes,
and its tables delete items past their TTL, as AWS does (scripts/moto-server).
Run in a process of its own: loading the script patches moto for the whole
process."""

import pytest

from tests.emulator_process import run_beside_emulator

# A process of its own, with a moto server in it.
pytestmark = pytest.mark.slow

SCRIPT = """
    from datetime import timedelta

    import boto3
    from botocore.exceptions import ClientError
    from moto.core.utils import utcnow
    from moto.dynamodb.models import dynamodb_backends

    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=url)
    streams = boto3.client("dynamodbstreams", region_name="us-east-1", endpoint_url=url)
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    for n in range(3):
        ddb.put_item(TableName="t", Item={"k": {"S": f"old{n}"}})
    table = dynamodb_backends["123456789012"]["us-east-1"].tables["t"]
    for record in table.stream_shard.items:
        record.created = utcnow() - timedelta(hours=24, seconds=1)
    first_old = table.stream_shard.items[0].to_json()["dynamodb"]["SequenceNumber"]
    ddb.put_item(TableName="t", Item={"k": {"S": "new"}})

    def records(**kwargs):
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **kwargs)
        return streams.get_records(ShardIterator=it["ShardIterator"])

    kept = records(ShardIteratorType="TRIM_HORIZON")["Records"]
    assert [r["dynamodb"]["Keys"]["k"]["S"] for r in kept] == ["new"], kept
    assert int(kept[0]["dynamodb"]["SequenceNumber"]) == int(first_old) + 3
    assert records(ShardIteratorType="LATEST")["Records"] == []
    after = records(
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=kept[0]["dynamodb"]["SequenceNumber"],
    )
    assert len(after["Records"]) == 1
    ddb.put_item(TableName="t", Item={"k": {"S": "next"}})
    follow = streams.get_records(ShardIterator=after["NextShardIterator"])["Records"]
    assert [r["dynamodb"]["Keys"]["k"]["S"] for r in follow] == ["next"]
    try:
        records(ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first_old)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "TrimmedDataAccessException", exc
    else:
        raise AssertionError("a trimmed record was read")

    from moto.dynamodbstreams.models import dynamodbstreams_backends

    backend = dynamodbstreams_backends["123456789012"]["us-east-1"]
    stale = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    clock = backend.mra_clock
    backend.mra_clock = lambda: clock() + 15 * 60 + 1
    fresh = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert len(streams.get_records(ShardIterator=fresh)["Records"]) == 2
    try:
        streams.get_records(ShardIterator=stale)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ExpiredIteratorException", exc
    else:
        raise AssertionError("an expired iterator was read")
    del backend.mra_clock
    # Nothing is kept per iterator: a hundred reads leave no iterator behind.
    import gc

    from moto.dynamodbstreams.models import ShardIterator

    iterator = fresh
    for _ in range(100):
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    gc.collect()
    assert not backend.shard_iterators, len(backend.shard_iterators)
    assert len(list(ShardIterator.instances_tracked)) == 0
    for bad in ("nonsense", fresh[:-8], fresh.rpartition("|1|")[0] + "|1|Ingi"):
        try:
            streams.get_records(ShardIterator=bad)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            assert code == "ValidationException", exc
        else:
            raise AssertionError(f"an invalid iterator was read: {bad}")

    # A record held for its day costs about its bytes: a write of an item
    # of twelve 40-character attributes (both images ~1.4 KB as JSON) kept
    # about 8 KB as moto's nested dicts, 1.8 KB packed on its own; packed
    # against the shard's first record, the record is some 180 bytes.
    attributes = {f"a{n}": {"S": f"{n:02d}" * 20} for n in range(12)}
    ddb.put_item(TableName="t", Item={"k": {"S": "wide"}, **attributes})
    writes = 200
    per_write = held_per_call(
        lambda n: ddb.update_item(
            TableName="t",
            Key={"k": {"S": "wide"}},
            UpdateExpression="SET a0 = :v",
            ExpressionAttributeValues={":v": {"S": f"{n:040d}"}},
        ),
        writes,
    )
    assert per_write < 1650, per_write
    last = records(ShardIteratorType="TRIM_HORIZON")["Records"][-1]["dynamodb"]
    assert last["NewImage"]["a0"]["S"] == f"{writes - 1:040d}", last
    assert last["OldImage"]["a0"]["S"] == f"{writes - 2:040d}", last
    assert last["NewImage"]["a11"] == attributes["a11"], last

    # TTL: an item past its time goes, as the table's own delete (a REMOVE in
    # its stream); a future time, a time over five years past and an
    # attribute that is not a Number keep their items, as on AWS.
    import time

    ddb.update_time_to_live(
        TableName="t",
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
    )
    now = time.time()
    for key, expires in (
        ("expired", {"N": str(int(now) - 60)}),
        ("future", {"N": str(int(now) + 3600)}),
        ("ancient", {"N": str(int(now) - 6 * 365 * 24 * 3600)}),
        ("text", {"S": str(int(now) - 60)}),
    ):
        ddb.put_item(TableName="t", Item={"k": {"S": key}, "expires_at": expires})
    backend = dynamodb_backends["123456789012"]["us-east-1"]
    assert backend.mra_expire_items(now=now) == 1
    left = {i["k"]["S"] for i in ddb.scan(TableName="t")["Items"]}
    assert {"future", "ancient", "text"} <= left and "expired" not in left, left
    removed = records(ShardIteratorType="TRIM_HORIZON")["Records"][-1]
    assert removed["eventName"] == "REMOVE", removed
    assert removed["dynamodb"]["Keys"]["k"]["S"] == "expired", removed
    assert backend.mra_expire_items(now=now + 7200) == 1  # "future" now
    print("ok")
"""


def test_stream_records_older_than_a_day_old_iterators_and_expired_items_go():
    assert run_beside_emulator(SCRIPT).splitlines()[-1] == "ok"
