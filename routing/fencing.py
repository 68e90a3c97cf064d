"""The one gate every write passes: a region that is not writable commits nothing.

`assert_writable` is a cheap early check (cached state) so that a refused
request does no work; `guarded_write` is the real guard: the write commits in
one DynamoDB transaction with a condition check on this region's replica of
the state item, so a write racing a fence either committed before the fence
or is refused.
"""

from collections.abc import Sequence

from django.conf import settings

from mra_site.aws.dynamodb import Attr, ConditionCheck, Write, transact
from mra_site.aws.errors import ConditionFailed
from mra_site.errors import ApplicationError
from mra_site.middleware import request_through_door
from mra_site.resources import table_name

from .banner import PAUSED
from .selectors import StateRecord, routing_state_get
from .states import RoutingState, state_allowing_writes_in

# A fence usually lasts seconds; clients that wait one second between tries
# resume writing about as soon as the new region takes writes.
FENCED_RETRY_AFTER_SECONDS = 1


class WriteRefused(ApplicationError):
    """This region may not write now: 503 + Retry-After while fenced, 421 while the
    other region takes writes; the body names the writable region and its URL.

    Through the front door a read-only region answers 503 + Retry-After as well
    (code still `read_only_region`): the door moves writes to the writable
    region within a second, so the client retries the same address, while a
    421 would tell it to go to another host it never chose.
    """

    def __init__(self, *, region: str, record: StateRecord) -> None:
        self.region = region
        self.record = record
        self.writable_region = record.writable_region
        self.writable_url = (
            settings.MRA_REGION_URLS.get(self.writable_region, "") if self.writable_region else ""
        )
        extra = {"writable_region": self.writable_region, "writable_url": self.writable_url}
        if record.state is RoutingState.FENCED:
            # The operator's reason is theirs (the console shows it), never the users'.
            super().__init__(
                f"{PAUSED} Try again shortly.",
                code="fenced",
                status=503,
                retry_after=FENCED_RETRY_AFTER_SECONDS,
                extra=extra,
            )
        elif request_through_door():
            super().__init__(
                f"{PAUSED} Try again shortly.",
                code="read_only_region",
                status=503,
                retry_after=FENCED_RETRY_AFTER_SECONDS,
                extra=extra,
            )
        else:
            super().__init__(
                f"{region} is read-only now; {self.writable_region} takes writes. "
                "Send the request there.",
                code="read_only_region",
                status=421,
                extra=extra,
            )


def assert_writable(*, region: str | None = None) -> None:
    """Raise WriteRefused unless the (cached) state lets `region` write."""
    region = region or settings.MRA_REGION
    record = routing_state_get(region=region)
    if record.writable_region != region:
        raise WriteRefused(region=region, record=record)


def state_condition(region: str) -> ConditionCheck:
    """The check that holds a transaction to the routing state."""
    return ConditionCheck(
        table=table_name("state"),
        key={"app_id": settings.MRA_APP_ID},
        condition=Attr("state").eq(state_allowing_writes_in(region).value),
    )


def guarded_write(*, writes: Sequence[Write], region: str | None = None, action: str) -> None:
    """Commit `writes` in one transaction, only while `region` is writable.

    Raises WriteRefused when the state forbids it, ConditionFailed when one of
    the writes' own conditions failed.
    """
    region = region or settings.MRA_REGION
    try:
        # The state check goes last: a refusal naming the last write is the fence.
        transact(region=region, writes=[*writes, state_condition(region)], action=action)
    except ConditionFailed as exc:
        if exc.reasons and exc.reasons[-1] == "ConditionalCheckFailed":
            raise WriteRefused(
                region=region, record=routing_state_get(region=region, max_age=0)
            ) from exc
        raise
