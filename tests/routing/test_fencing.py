import io
import threading
import time

from django.test import Client
from PIL import Image

from mra_site.api import exception_handler
from mra_site.aws.clients import dynamodb_table
from mra_site.aws.dynamodb import Attr, Put, write_stamp
from mra_site.resources import table_name
from routing.fencing import WriteRefused, assert_writable, guarded_write
from routing.selectors import routing_state_get
from routing.states import RoutingState
from tests.conftest import PRIMARY, SECONDARY
from tests.routing.helpers import move


def put_item(key: str, region: str = PRIMARY) -> Put:
    return Put(
        table=table_name("photos"),
        item={"pk": key, "sk": "META", **write_stamp(region)},
        condition=Attr("pk").not_exists(),
    )


def stored(prefix: str, region: str = PRIMARY) -> set[str]:
    table = dynamodb_table(region, table_name("photos"))
    keys: set[str] = set()
    kwargs: dict = {
        "FilterExpression": "begins_with(pk, :p)",
        "ExpressionAttributeValues": {":p": prefix},
    }
    while True:
        page = table.scan(**kwargs)
        keys |= {item["pk"] for item in page["Items"]}
        if "LastEvaluatedKey" not in page:
            return keys
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_writers_racing_a_fence_commit_before_it_or_not_at_all(aws):
    stop = threading.Event()
    fenced = threading.Event()
    outcomes: list[tuple[str, bool, str]] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        i = 0
        while not stop.is_set():
            key = f"RACE#{n}#{i}"
            i += 1
            started_after_fence = fenced.is_set()
            try:
                guarded_write(writes=[put_item(key)], region=PRIMARY, action="race write")
                outcome = "committed"
            except WriteRefused as refusal:
                assert refusal.status == 503
                outcome = "refused"
            with lock:
                outcomes.append((key, started_after_fence, outcome))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.6)
    move(RoutingState.FENCED, 1)
    fenced.set()
    time.sleep(0.6)
    stop.set()
    for thread in threads:
        thread.join()

    committed = {key for key, _, outcome in outcomes if outcome == "committed"}
    refused = {key for key, _, outcome in outcomes if outcome == "refused"}
    assert committed and refused
    # What is in the table is exactly what writers were told was committed.
    assert stored("RACE#") == committed
    # Nothing that started once the fence was in place got through.
    after = [(key, outcome) for key, late, outcome in outcomes if late]
    assert after and all(outcome == "refused" for _, outcome in after)


def test_the_transaction_guards_even_when_the_cached_state_is_stale(aws, settings):
    # A cache that outlives the test, however slow the machine: the cheap check
    # below must still see the state read here.
    settings.MRA_STATE_CACHE_SECONDS = 60
    assert routing_state_get(region=PRIMARY).state is RoutingState.ACTIVE  # cached now
    # Another process fences: this process's cache still says active.
    dynamodb_table(PRIMARY, table_name("state")).update_item(
        Key={"app_id": "mra"},
        UpdateExpression="SET #s = :f, version = :v",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":f": "fenced", ":v": 2},
    )
    assert_writable(region=PRIMARY)  # the cheap check cannot know yet
    try:
        guarded_write(writes=[put_item("STALE#1")], region=PRIMARY, action="stale write")
    except WriteRefused as refusal:
        assert refusal.status == 503
    else:
        raise AssertionError("a write committed while the state item said fenced")
    assert stored("STALE#") == set()


def test_fenced_write_is_503_with_retry_after(aws):
    move(RoutingState.FENCED, 1)
    try:
        assert_writable(region=PRIMARY)
    except WriteRefused as refusal:
        response = exception_handler(refusal, {})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.data["error"] == "fenced"
    assert response.data["writable_region"] is None
    assert response.data["writable_url"] == ""
    assert "paused" in response.data["detail"]


def test_write_to_the_read_only_region_is_421_naming_the_writable_one(aws, settings):
    move(RoutingState.FENCED, 1)
    move(RoutingState.FAILOVER, 2, force=True)
    try:
        guarded_write(writes=[put_item("OLD#1")], region=PRIMARY, action="write")
    except WriteRefused as refusal:
        response = exception_handler(refusal, {})
    assert response.status_code == 421
    assert "Retry-After" not in response
    assert response.data == {
        "error": "read_only_region",
        "detail": response.data["detail"],
        "writable_region": SECONDARY,
        "writable_url": settings.MRA_REGION_URLS[SECONDARY],
    }
    assert SECONDARY in response.data["detail"]
    assert stored("OLD#") == set()
    guarded_write(writes=[put_item("NEW#1", SECONDARY)], region=SECONDARY, action="write")
    assert stored("NEW#", SECONDARY) == {"NEW#1"}


def png() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 40, 40)).save(data, format="PNG")
    data.seek(0)
    data.name = "red.png"
    return data


def test_an_upload_through_the_api_gets_the_refusal(aws, tokens, region):
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['member']}"}
    move(RoutingState.FENCED, 1)
    fenced = client.post("/api/photos", {"image": png(), "title": "red"}, **auth)
    assert fenced.status_code == 503
    assert fenced["Retry-After"] == "1"
    assert set(fenced.json()) == {"error", "detail", "writable_region", "writable_url"}
    move(RoutingState.FAILOVER, 2, force=True)
    read_only = client.post("/api/photos", {"image": png(), "title": "red"}, **auth)
    assert read_only.status_code == 421
    assert read_only.json()["writable_region"] == SECONDARY


def test_through_the_front_door_a_read_only_region_answers_503_never_421(aws, tokens):
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['member']}"}
    move(RoutingState.FENCED, 1)
    move(RoutingState.FAILOVER, 2, force=True)
    through_door = client.post(
        "/api/photos", {"image": png(), "title": "red"}, HTTP_X_MRA_DOOR="1", **auth
    )
    assert through_door.status_code == 503
    assert through_door["Retry-After"] == "1"
    assert through_door.json()["error"] == "read_only_region"
    assert through_door.json()["writable_region"] == SECONDARY
    # The same write on the regional address is still told where to go.
    regional = client.post("/api/photos", {"image": png(), "title": "red"}, **auth)
    assert regional.status_code == 421
    assert stored("PHOTO#") == set()
