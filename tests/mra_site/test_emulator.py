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


def test_items_come_back_as_stored_whatever_their_attribute_types(aws):
    """The emulator's quick way of writing attribute values (scripts/moto-server)
    answers what moto's serializer does: every type, nested ones and binary too."""
    table = "mra-canary"
    item = {
        "app_id": {"S": "every-type"},
        "text": {"S": "é ✓"},
        "empty": {"S": ""},
        "number": {"N": "-1.5"},
        "yes": {"BOOL": True},
        "no": {"BOOL": False},
        "nothing": {"NULL": True},
        "strings": {"SS": ["a", "b"]},
        "numbers": {"NS": ["1", "2"]},
        "binary": {"B": b"\x00\xff"},
        "binaries": {"BS": [b"a", b"b"]},
        "nested": {
            "M": {
                "list": {"L": [{"N": "1"}, {"S": "x"}, {"M": {}}, {"L": []}, {"B": b"z"}]},
                "flag": {"BOOL": False},
            }
        },
    }
    dynamodb = client("dynamodb", PRIMARY)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = client("dynamodbstreams", PRIMARY)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]

    dynamodb.put_item(TableName=table, Item=item)
    key = {"app_id": item["app_id"]}
    stored = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    queried = dynamodb.query(
        TableName=table,
        KeyConditionExpression="app_id = :id",
        ExpressionAttributeValues={":id": item["app_id"]},
    )["Items"]
    records = streams.get_records(ShardIterator=iterator)["Records"]

    assert stored == item
    assert queried == [item]
    assert [record["dynamodb"]["NewImage"] for record in records] == [item]


def test_version_listings_by_prefix_and_page_return_what_s3_does(aws):
    s3 = client("s3", PRIMARY)
    bucket = "mra-media-us-east-1"
    keys = ["listing/a/1", "listing/a/2", "listing/b/1", "listingz"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"one")
    s3.put_object(Bucket=bucket, Key="listing/a/2", Body=b"two")  # a second version
    s3.delete_object(Bucket=bucket, Key="listing/b/1")  # a delete marker on top

    under_a = s3.list_object_versions(Bucket=bucket, Prefix="listing/a/")
    assert [(v["Key"], v["IsLatest"]) for v in under_a["Versions"]] == [
        ("listing/a/1", True),
        ("listing/a/2", True),
        ("listing/a/2", False),
    ]
    assert "DeleteMarkers" not in under_a
    marked = s3.list_object_versions(Bucket=bucket, Prefix="listing/b/")
    assert [(m["Key"], m["IsLatest"]) for m in marked["DeleteMarkers"]] == [("listing/b/1", True)]
    assert [(v["Key"], v["IsLatest"]) for v in marked["Versions"]] == [("listing/b/1", False)]

    # Page by page, one entry at a time: every version and marker exactly once, in order.
    seen, page = [], {}
    while True:
        markers = {"KeyMarker": page["NextKeyMarker"]} if page.get("IsTruncated") else {}
        if page.get("NextVersionIdMarker"):
            markers["VersionIdMarker"] = page["NextVersionIdMarker"]
        page = s3.list_object_versions(Bucket=bucket, Prefix="listing", MaxKeys=1, **markers)
        seen += [(e["Key"], e["VersionId"]) for e in page.get("Versions", [])]
        seen += [(e["Key"], e["VersionId"]) for e in page.get("DeleteMarkers", [])]
        if not page["IsTruncated"]:
            break
    everything = s3.list_object_versions(Bucket=bucket, Prefix="listing")
    listed = everything["Versions"] + everything["DeleteMarkers"]
    assert sorted(seen) == sorted((e["Key"], e["VersionId"]) for e in listed)
    assert len(seen) == len(set(seen)) == 6
    assert [
        d["Prefix"]
        for d in s3.list_object_versions(Bucket=bucket, Prefix="listing/", Delimiter="/")[
            "CommonPrefixes"
        ]
    ] == ["listing/a/", "listing/b/"]
