"""The emulator behaves like DynamoDB where replication and fencing depend on it."""

import pytest

from mra_site.aws.clients import client, dynamodb_table
from mra_site.aws.dynamodb import Put, write_stamp
from routing.fencing import WriteRefused, guarded_write
from tests.conftest import PRIMARY


def test_a_cancelled_transaction_leaves_open_stream_readers_following_the_table(aws):
    table = "mra-canary"
    arn = client("dynamodb", PRIMARY).describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = client("dynamodbstreams", PRIMARY)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]

    dynamodb_table(PRIMARY, "mra-state").update_item(
        Key={"app_id": "mra"},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": "fenced"},
    )
    refused = Put(table=table, item={"app_id": "refused"})
    with pytest.raises(WriteRefused):
        guarded_write(writes=[refused], region=PRIMARY, action="refused write")
    dynamodb_table(PRIMARY, table).put_item(Item={"app_id": "later", **write_stamp(PRIMARY)})

    records = streams.get_records(ShardIterator=iterator)["Records"]
    keys = [r["dynamodb"]["Keys"]["app_id"]["S"] for r in records]
    assert keys == ["later"]
