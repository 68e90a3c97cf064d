"""Replication directions between the two regions, named `SOURCE-to-TARGET`."""

from dataclasses import dataclass

from mra_site.aws.clients import regions

MEDIA_DATASET = "media"
CANARY_DATASET = "canary"


class UnknownDirection(ValueError):
    pass


@dataclass(frozen=True)
class Direction:
    source: str
    target: str

    @property
    def name(self) -> str:
        return f"{self.source}-to-{self.target}"

    def __str__(self) -> str:
        return self.name


def directions_all() -> list[Direction]:
    primary, secondary = regions()
    return [Direction(primary, secondary), Direction(secondary, primary)]


def direction_parse(name: str) -> Direction:
    """`us-east-1-to-us-west-2` to a Direction; UnknownDirection names the valid ones."""
    for direction in directions_all():
        if direction.name == name:
            return direction
    valid = ", ".join(d.name for d in directions_all())
    raise UnknownDirection(f"unknown direction {name!r}; expected one of: {valid}")


def datasets_all() -> list[str]:
    """Table keys of the replicated tables, then the media buckets."""
    from mra_site.resources import TABLES

    return [spec.key for spec in TABLES] + [MEDIA_DATASET]
