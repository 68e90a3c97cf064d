"""Replication benchmark: lag of the local replicator and its throughput against a bare copy loop.

    .venv/bin/python bench/replication.py [--seconds 5] [--rates 10,20,50,100] [--backlog 400]
                                          [--kinds metadata,media]

Starts two emulated regions and `manage.py replicate` of its own. For each rate,
writes photo metadata items, then 200 KB media objects, to the primary at that
rate for --seconds, and reports the replication lag p50/p99 the replicator
measured (from the write's stamp or S3 event time to the target's
acknowledgement), after checking that every write arrived. The replicator is
restarted between phases (its checkpoint kept) so that each phase's figures
stand alone.

Throughput: with the direction paused, a backlog of items and objects is
written, then replication is resumed and timed until the target holds them
all; a bare loop (get from the primary, put to the secondary, one after the
other, as the replicator does) copies the same backlog under other keys in
the same run. The ratio is replicator rate / bare rate.
"""

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _django import django_setup

django_setup("mra_site.settings.test")


from devstack.processes import Replicator  # noqa: E402
from devstack.regions import emulated_regions  # noqa: E402
from devstack.stack import PRIMARY, SECONDARY  # noqa: E402
from mra_site.aws import s3  # noqa: E402
from mra_site.aws.clients import client, dynamodb_table  # noqa: E402
from mra_site.aws.dynamodb import item_put, write_stamp  # noqa: E402
from mra_site.polling import poll  # noqa: E402
from mra_site.resources import media_bucket, table_name  # noqa: E402
from replication.controls import replication_pause, replication_resume  # noqa: E402
from replication.directions import direction_parse  # noqa: E402
from replication.status import replication_status_get  # noqa: E402

DIRECTION = f"{PRIMARY}-to-{SECONDARY}"
MEDIA_BYTES = 200 * 1024


def put_item(region: str, key: str) -> None:
    item_put(
        region=region,
        table=table_name("photos"),
        item={"pk": key, "sk": "META", "title": key, **write_stamp(region)},
    )


def put_object(region: str, key: str, body: bytes) -> None:
    s3.object_put(
        region=region, bucket=media_bucket(region), key=key, body=body, content_type="image/jpeg"
    )


def item_present(region: str, keys: list[str]) -> set[str]:
    found = set()
    ddb = client("dynamodb", region)
    for start in range(0, len(keys), 100):
        batch = [{"pk": {"S": k}, "sk": {"S": "META"}} for k in keys[start : start + 100]]
        response = ddb.batch_get_item(
            RequestItems={table_name("photos"): {"Keys": batch, "ProjectionExpression": "pk"}}
        )
        found |= {i["pk"]["S"] for i in response["Responses"].get(table_name("photos"), [])}
    return found


def objects_present(region: str, prefix: str) -> int:
    listed = s3.objects_list(region=region, bucket=media_bucket(region), prefix=prefix)
    return sum(1 for _ in listed)


def paced(rate: float, seconds: float, write) -> int:
    """Call write(i) at `rate` per second for `seconds`, on a pool so slow writes overlap."""
    count = int(rate * seconds)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        for i in range(count):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(write, i)
    return count


def lag_of(dataset: str) -> dict:
    stats = replication_status_get()["directions"][DIRECTION]["datasets"][dataset]
    return {k: stats[k] for k in ("lag_p50_seconds", "lag_p99_seconds", "lag_samples")}


def wait_settled(dataset: str, expected: int) -> None:
    def settled() -> bool:
        stats = replication_status_get()["directions"][DIRECTION]["datasets"][dataset]
        return stats["lag_samples"] >= expected and stats["pending"] == 0

    poll(settled, timeout=120, what=f"{dataset} lag samples", interval=0.5)


def lag_phases(
    replicator: Replicator, kinds: list[str], rates: list[int], seconds: float
) -> list[dict]:
    body = os.urandom(MEDIA_BYTES)
    rows = []
    for kind in kinds:
        for rate in rates:
            replicator.stop()
            replicator.start()
            run = f"{kind}-{rate}-{time.monotonic_ns()}"
            if kind == "metadata":
                keys = [f"BENCH#{run}#{i}" for i in range(int(rate * seconds))]
                written = paced(rate, seconds, lambda i, keys=keys: put_item(PRIMARY, keys[i]))
                poll(
                    lambda k=keys: len(item_present(SECONDARY, k)) == len(k),
                    timeout=120,
                    what=run,
                    interval=0.5,
                )
                wait_settled("photos", written)
                lag = lag_of("photos")
            else:
                prefix = f"bench/{run}/"
                written = paced(
                    rate, seconds, lambda i, p=prefix: put_object(PRIMARY, f"{p}{i}.jpg", body)
                )
                poll(
                    lambda p=prefix, n=written: objects_present(SECONDARY, p) == n,
                    timeout=120,
                    what=run,
                    interval=0.5,
                )
                wait_settled("media", written)
                lag = lag_of("media")
            rows.append({"kind": kind, "rate": rate, "writes": written, **lag})
            print(
                f"{kind:8} {rate:4}/s  {written:5} writes  lag p50 {lag['lag_p50_seconds']:.3f} s"
                f"  p99 {lag['lag_p99_seconds']:.3f} s",
                flush=True,
            )
    return rows


def throughput(backlog: int) -> dict:
    direction = direction_parse(DIRECTION)
    run = f"tp-{time.monotonic_ns()}"
    body = os.urandom(MEDIA_BYTES)
    keys = [f"BENCH#{run}#{i}" for i in range(backlog)]
    media = max(1, backlog // 4)
    replication_pause(direction=direction)
    for key in keys:
        put_item(PRIMARY, key)
    for i in range(media):
        put_object(PRIMARY, f"bench/{run}/{i}.jpg", body)

    started = time.monotonic()
    replication_resume(direction=direction)
    poll(
        lambda: len(item_present(SECONDARY, keys)) == backlog,
        timeout=300,
        what="backlog items",
        interval=0.5,
    )
    poll(
        lambda: objects_present(SECONDARY, f"bench/{run}/") == media,
        timeout=300,
        what="backlog media",
        interval=0.5,
    )
    replicator_seconds = time.monotonic() - started

    started = time.monotonic()
    source, target = dynamodb_table(PRIMARY, table_name("photos")), client("dynamodb", SECONDARY)
    for key in keys:
        item = source.get_item(Key={"pk": key, "sk": "META"}, ConsistentRead=True)["Item"]
        target.put_item(
            TableName=table_name("photos"),
            Item={"pk": {"S": f"BARE{key}"}, "sk": {"S": "META"}, "title": {"S": item["title"]}},
        )
    s3_source, s3_target = client("s3", PRIMARY), client("s3", SECONDARY)
    for i in range(media):
        got = s3_source.get_object(Bucket=media_bucket(PRIMARY), Key=f"bench/{run}/{i}.jpg")
        s3_target.put_object(
            Bucket=media_bucket(SECONDARY),
            Key=f"bare/{run}/{i}.jpg",
            Body=got["Body"].read(),
            ContentType=got["ContentType"],
        )
    bare_seconds = time.monotonic() - started
    total = backlog + media
    result = {
        "items": backlog,
        "objects": media,
        "replicator_per_second": round(total / replicator_seconds, 1),
        "bare_loop_per_second": round(total / bare_seconds, 1),
        "ratio": round(bare_seconds / replicator_seconds, 3),
    }
    print(
        f"throughput: {backlog} items + {media} objects: replicator "
        f"{result['replicator_per_second']}/s, bare loop {result['bare_loop_per_second']}/s, "
        f"ratio {result['ratio']}",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default="10,20,50,100")
    parser.add_argument("--backlog", type=int, default=400)
    parser.add_argument("--kinds", default="metadata,media")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]

    log_dir = Path(tempfile.mkdtemp(prefix="mra-bench-replication-"))
    state_dir = log_dir / "state"
    with emulated_regions(log_dir, MRA_REPLICATION_STATE_DIR=state_dir) as emulators:
        replicator = Replicator(log_dir, state_dir, {r: e.url for r, e in emulators.items()})
        try:
            replicator.start()
            rows = lag_phases(replicator, args.kinds.split(","), rates, args.seconds)
            result = {"lag": rows, "throughput": throughput(args.backlog)}
            print(json.dumps(result, indent=1))
        finally:
            replicator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
