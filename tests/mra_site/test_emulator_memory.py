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
    import json

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
        300,
    )
    print(json.dumps({"item": item}))
"""


def test_an_item_holds_little_beside_its_bytes():
    held = json.loads(run_beside_emulator(SCRIPT).splitlines()[-1])
    # moto tracked each item for its dashboard, and each item kept its own
    # copy of every attribute's name: about 4 KB for an item of thirteen
    # attributes (0.8 KB as JSON); 3.1 KB without them.
    assert held["item"] < 3_500, held
