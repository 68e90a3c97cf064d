"""What the emulator holds beside the bytes it stores (scripts/moto-server).

A day of the light load stores some 86,000 photos and 170,000 comments in
each region: what an emulator keeps beside each item is what its memory
grows by beyond the stored bytes. Run in a process of its own: loading the
script patches moto for the whole process."""

import json
import subprocess
import sys
import textwrap

import pytest

from devstack.processes import ROOT, free_port

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import gc, importlib.machinery, importlib.util, json, sys, tracemalloc

    loader = importlib.machinery.SourceFileLoader("moto_server", sys.argv[1])
    spec = importlib.util.spec_from_loader("moto_server", loader)
    loader.exec_module(importlib.util.module_from_spec(spec))

    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[2]))
    server.start()
    url = f"http://127.0.0.1:{sys.argv[2]}"
    try:
        ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=url)
        ddb.create_table(
            TableName="photos",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        attributes = {f"attribute_{n}": {"S": f"{n:02d}" * 20} for n in range(12)}
        ddb.put_item(TableName="photos", Item={"pk": {"S": "warm"}, **attributes})

        def held_per(write, count):
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            for n in range(count):
                write(n)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            return held / count

        item = held_per(
            lambda n: ddb.put_item(
                TableName="photos", Item={"pk": {"S": f"PHOTO#{n}"}, **attributes}
            ),
            300,
        )
        print(json.dumps({"item": item}))
    finally:
        server.stop()
    """
)


def test_an_item_holds_little_beside_its_bytes():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "scripts" / "moto-server"), str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    held = json.loads(result.stdout.strip().splitlines()[-1])
    # moto tracked each item for its dashboard, and each item kept its own
    # copy of every attribute's name: about 4 KB for an item of thirteen
    # attributes (0.8 KB as JSON); 3.1 KB without them.
    assert held["item"] < 3_500, held
