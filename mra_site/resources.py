"""The AWS resources the application needs in each region, by name.

mra_bootstrap creates them locally; deploy/cloudformation declares the same
resources on AWS. Apps add their tables here so both stay in one place.
"""

from dataclasses import dataclass, field

from django.conf import settings


@dataclass(frozen=True)
class TableSpec:
    key: str  # logical name used in code; the physical name adds MRA_TABLE_PREFIX
    hash_key: str
    range_key: str | None = None
    indexes: tuple["IndexSpec", ...] = field(default=())
    ttl_attribute: str | None = None
    # Replicated tables need a stream; a region's own counters do not.
    stream: bool = True

    @property
    def name(self) -> str:
        return table_name(self.key)


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None = None


TABLES: tuple[TableSpec, ...] = (
    # One item per application: the routing state every region reads from its replica.
    TableSpec(key="state", hash_key="app_id"),
    # Every routing change and refused attempt; event_id sorts by time.
    TableSpec(key="audit", hash_key="app_id", range_key="event_id"),
    # The lag canary's heartbeat, written to the writable region every second.
    TableSpec(key="canary", hash_key="app_id"),
    # Photos and their comments in one table:
    #   pk "PHOTO#<id>", sk "META" for the photo, "COMMENT#<created_at>#<id>" for comments;
    #   index gallery: gallery_pk "GALLERY#<n>" (write-sharded, n < GALLERY_SHARDS),
    #     gallery_sk "<created_at>#<id>" (newest first, merged across the shards);
    #   index by_owner: owner_pk "OWNER#<owner id>", owner_sk "<created_at>#<id>".
    TableSpec(
        key="photos",
        hash_key="pk",
        range_key="sk",
        indexes=(
            IndexSpec(name="gallery", hash_key="gallery_pk", range_key="gallery_sk"),
            IndexSpec(name="by_owner", hash_key="owner_pk", range_key="owner_sk"),
        ),
        # Idempotency key records (photos.idempotency) expire a day after their write.
        ttl_attribute="expires_at",
    ),
    # The user registry (accounts/registry.py): pk "USER#<stable id>" for a user,
    # "NAME#<normalised username>" for the claim on a name.
    TableSpec(key="users", hash_key="pk"),
)


# Tables each region keeps to itself: created in both regions, never replicated.
REGIONAL_TABLES: tuple[TableSpec, ...] = (
    # Sign-in failures per username and per client address, one item per
    # fixed window: pk "<kind>#<value>#<window start>", expiring by TTL.
    TableSpec(key="throttle", hash_key="pk", ttl_attribute="expires_at", stream=False),
)


def table_name(key: str) -> str:
    return f"{settings.MRA_TABLE_PREFIX}{key}"


def media_bucket(region: str) -> str:
    return settings.MRA_MEDIA_BUCKET.format(region=region)
