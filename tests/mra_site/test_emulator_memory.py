"""What the emulator holds beside the bytes it stores (scripts/moto-server).

A day of the light load stores some 86,000 photos and 170,000 comments in
each region: what an emulator keeps beside each item is what its memory
grows by beyond the stored bytes."""

import json

import pytest

from tests.emulator_process import run_beside_emulator

# A process of its own, with a moto server in it.
pytestmark = pytest.mark.slow

SCRIPT = """
    import gc
    import json
    import os

    import boto3

    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=url)
    ddb.create_table(
        TableName="photos",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    attributes = {f"attribute_{n}": {"S": f"{n:02d}" * 20} for n in range(12)}
    ddb.put_item(TableName="photos", Item={"pk": {"S": "warm"}, **attributes})
    item = held_per_call(
        lambda n: ddb.put_item(TableName="photos", Item={"pk": {"S": f"PHOTO#{n}"}, **attributes}),
        200,
    )

    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=url)
    s3.create_bucket(Bucket="media")
    s3.put_bucket_versioning(Bucket="media", VersioningConfiguration={"Status": "Enabled"})
    size = 20_000
    s3.put_object(Bucket="media", Key="warm", Body=b"w" * size)
    put = lambda n: s3.put_object(  # noqa: E731
        Bucket="media",
        Key=f"photos/{n % 50}/original",
        Body=bytes([n % 256]) * size,
        # What the site sends with each photo's file.
        ContentType="image/jpeg",
        CacheControl="public, max-age=3600",
        Metadata={"mra-written-at": str(1_796_000_000_000_000 + n), "mra-region": "us-east-1"},
    )
    # The whole of what memory holds per version, its 20 KB of bytes being on disk.
    obj = held_per_call(put, 200)

    # What differs from the defaults is each object's own, and reads back.
    s3.put_object(
        Bucket="media",
        Key="redirect",
        Body=b"first",
        WebsiteRedirectLocation="/elsewhere",
        ChecksumAlgorithm="SHA256",
    )
    s3.put_object(Bucket="media", Key="redirect", Body=b"second")
    versions = s3.list_object_versions(Bucket="media", Prefix="redirect")["Versions"]
    assert sorted(v["IsLatest"] for v in versions) == [False, True]
    [older] = [v for v in versions if not v["IsLatest"]]
    first = s3.get_object(Bucket="media", Key="redirect", VersionId=older["VersionId"])
    assert first["Body"].read() == b"first"
    assert first["WebsiteRedirectLocation"] == "/elsewhere"
    second = s3.get_object(Bucket="media", Key="redirect", ChecksumMode="ENABLED")
    assert second["Body"].read() == b"second"
    assert "WebsiteRedirectLocation" not in second and "ChecksumSHA256" not in second
    acl = s3.get_object_acl(Bucket="media", Key="redirect")
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    s3.put_object_acl(Bucket="media", Key="redirect", ACL="public-read")
    other = s3.get_object_acl(Bucket="media", Key="warm")
    assert [g["Permission"] for g in other["Grants"]] == ["FULL_CONTROL"]

    # Large bodies are files, small ones bytes; both read back whole and in
    # ranges, and a body replaced or deleted leaves no file behind.
    from moto.s3 import models

    files = models.tempfile.SpooledTemporaryFile._keep.__globals__["_object_files"]
    count = lambda: sum(len(names) for _, _, names in os.walk(files._root()))  # noqa: E731
    s3.create_bucket(Bucket="plain")
    before = count()
    large, small = bytes(range(256)) * 40, b"heartbeat"
    s3.put_object(Bucket="plain", Key="large", Body=large)
    s3.put_object(Bucket="plain", Key="small", Body=small)
    assert count() == before + 1
    assert s3.get_object(Bucket="plain", Key="large")["Body"].read() == large
    part = s3.get_object(Bucket="plain", Key="large", Range="bytes=1000-1999")["Body"].read()
    assert part == large[1000:2000]
    assert s3.get_object(Bucket="plain", Key="small")["Body"].read() == small
    s3.put_object(Bucket="plain", Key="large", Body=large[::-1])
    assert s3.get_object(Bucket="plain", Key="large")["Body"].read() == large[::-1]
    s3.delete_object(Bucket="plain", Key="large")
    gc.collect()
    assert count() == before

    body = models.tempfile.SpooledTemporaryFile(8)
    body.write(b"0123456789")
    body.seek(2)
    assert body.read(3) == b"234" and body.read() == b"56789"
    body.seek(0)
    body.truncate()
    body.write(b"abc")
    body.seek(0)
    assert body.read() == b"abc"

    # A message received and deleted leaves nothing behind; deleting it again
    # succeeds, as on AWS, and a malformed handle is refused.
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=url)
    queue = sqs.create_queue(QueueName="events")["QueueUrl"]

    def delivered(n):
        # Ten messages sent, received and deleted in three calls.
        entries = [{"Id": str(i), "MessageBody": f"event {n}.{i}"} for i in range(10)]
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in messages],
        )
        return messages[0]["ReceiptHandle"]

    handle = [delivered(n) for n in range(5)][0]
    message = held_per_call(delivered, 30) / 10
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=handle)
    try:
        sqs.delete_message(QueueUrl=queue, ReceiptHandle="not-a-handle")
        raise AssertionError("a malformed receipt handle was accepted")
    except sqs.exceptions.ReceiptHandleIsInvalid:
        pass
    print(json.dumps({"item": item, "object": obj, "message": message}))
"""


def test_items_objects_and_deleted_messages_hold_little_beside_their_bytes():
    # Some 600 requests traced by tracemalloc: seconds, longer on a busy machine.
    held = json.loads(run_beside_emulator(SCRIPT, timeout=180).splitlines()[-1])
    # moto tracked each item for its dashboard, each item kept its own copy
    # of every attribute's name, and each attribute value an attribute
    # dictionary: about 4 KB for an item of thirteen attributes (0.8 KB as
    # JSON); 2.75 KB without them.
    assert held["item"] < 3_000, held
    # Each version of a 20 KB S3 object held its bytes and about 4.6 KB beside
    # them (a spooled file, an ACL of its own, forty attributes, its own copy
    # of every metadata name and shared value); now its bytes are on disk and
    # about 2.2 KB is held.
    assert held["object"] < 2_450, held
    # moto kept every deleted message's receipt handles: about 610 bytes a
    # message through this test, 240 without.
    assert held["message"] < 400, held
