import pytest

from mra_site.aws.dynamodb import (
    Attr,
    ConditionCheck,
    Delete,
    Key,
    Put,
    Update,
    item_delete,
    item_get,
    item_put,
    items_query,
    transact,
)
from mra_site.aws.errors import ConditionFailed
from mra_site.resources import table_name
from tests.conftest import PRIMARY, SECONDARY


def photos() -> str:
    return table_name("photos")


def test_a_conditional_put_is_refused_and_leaves_the_item_as_it_was(aws):
    key = {"pk": "PHOTO#cond", "sk": "META"}
    item_put(region=PRIMARY, table=photos(), item={**key, "title": "first"})
    with pytest.raises(ConditionFailed):
        item_put(
            region=PRIMARY,
            table=photos(),
            item={**key, "title": "second"},
            condition=Attr("pk").not_exists(),
        )
    assert item_get(region=PRIMARY, table=photos(), key=key, consistent=True)["title"] == "first"
    assert item_get(region=SECONDARY, table=photos(), key=key) is None


def test_a_conditional_delete_removes_only_a_matching_item(aws):
    key = {"pk": "PHOTO#del", "sk": "META"}
    item_put(region=PRIMARY, table=photos(), item={**key, "title": "keep"})
    with pytest.raises(ConditionFailed):
        item_delete(region=PRIMARY, table=photos(), key=key, condition=Attr("title").eq("other"))
    item_delete(region=PRIMARY, table=photos(), key=key, condition=Attr("title").eq("keep"))
    assert item_get(region=PRIMARY, table=photos(), key=key, consistent=True) is None


def test_a_query_pages_in_key_order_and_projects(aws):
    for n in range(5):
        item_put(
            region=PRIMARY,
            table=photos(),
            item={"pk": "PHOTO#q", "sk": f"COMMENT#{n}", "message": f"m{n}"},
        )
    key = Key("pk").eq("PHOTO#q") & Key("sk").begins_with("COMMENT#")
    newest = items_query(region=PRIMARY, table=photos(), key=key, forward=False, limit=2)
    assert [i["sk"] for i in newest] == ["COMMENT#4", "COMMENT#3"]
    rest = items_query(
        region=PRIMARY, table=photos(), key=key, start=newest[-1], attributes=("pk", "sk")
    )
    assert [i["sk"] for i in rest] == ["COMMENT#4"]
    assert set(rest[0]) == {"pk", "sk"}


def test_a_transaction_commits_every_write_together(aws):
    photo = {"pk": "PHOTO#t", "sk": "META"}
    other = {"pk": "PHOTO#other", "sk": "META"}
    item_put(region=PRIMARY, table=photos(), item={**photo, "comment_count": 1})
    item_put(region=PRIMARY, table=photos(), item={**other, "old": "x"})
    transact(
        region=PRIMARY,
        writes=[
            Update(
                table=photos(),
                key=photo,
                set={"title": "counted"},
                add={"comment_count": 1},
                condition=Attr("pk").exists(),
            ),
            Put(table=photos(), item={"pk": "PHOTO#t", "sk": "COMMENT#1"}),
            Delete(table=photos(), key={"pk": "PHOTO#gone", "sk": "META"}),
            ConditionCheck(table=photos(), key=other, condition=Attr("old").eq("x")),
        ],
        action="comment",
    )
    stored = item_get(region=PRIMARY, table=photos(), key=photo, consistent=True)
    assert (stored["title"], stored["comment_count"]) == ("counted", 2)
    assert item_get(
        region=PRIMARY, table=photos(), key={"pk": "PHOTO#t", "sk": "COMMENT#1"}, consistent=True
    )


def test_a_refused_transaction_names_the_write_whose_condition_failed(aws):
    photo = {"pk": "PHOTO#r", "sk": "META"}
    item_put(region=PRIMARY, table=photos(), item={**photo, "state": "active"})
    comment = {"pk": "PHOTO#r", "sk": "COMMENT#1"}
    with pytest.raises(ConditionFailed) as refused:
        transact(
            region=PRIMARY,
            writes=[
                Put(table=photos(), item=comment, condition=Attr("pk").not_exists()),
                ConditionCheck(table=photos(), key=photo, condition=Attr("state").eq("fenced")),
            ],
            action="guarded write",
        )
    assert refused.value.reasons[-1] == "ConditionalCheckFailed"
    assert refused.value.reasons[0] != "ConditionalCheckFailed"
    assert item_get(region=PRIMARY, table=photos(), key=comment, consistent=True) is None
