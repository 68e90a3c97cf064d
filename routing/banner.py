"""What a page says about writing here: the banner and the reason on disabled controls.

Every sentence lives here. The server renders the banner with them, and gives
state.js the same sentences (`banner_texts`) with only `{writable_region}` (and,
through the front door, `{serving_region}`) left for the script to fill from the
state it polls, so the script keeps no copy.

A page served through the front door (`mra_site.middleware.served_through_door`) speaks of the site,
not of the region that served it: writing is open wherever the door sends it,
and the page never sends the browser to another host.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from .selectors import StateRecord
from .states import RoutingState


class Situation(StrEnum):
    OPEN = "open"
    FENCED = "fenced"
    READ_ONLY = "read_only"
    # The server could not read this region's state record.
    STATE_UNREADABLE = "state_unreadable"
    # The script could read neither region's state.
    UNREACHABLE = "unreachable"
    # This region does not answer the script; the state came from the other one.
    REGION_DOWN = "region_down"


WHERE = "You are on {serving_region} ({serving_role})."
# Through the door the region that answers may change under the page: the script
# fills it from each state it polls.
DOOR_WHERE = "Served by {serving_region}."
WRITES_OPEN = "Uploads and comments are open."
# Shown next to each disabled write control, and in the banner after WHERE.
REASONS = {
    Situation.OPEN: "",
    Situation.FENCED: (
        "Uploads and comments are paused while operators move the site between regions; "
        "they reopen by themselves."
    ),
    Situation.READ_ONLY: (
        "This region is read-only; uploads and comments go to {writable_region}."
    ),
    Situation.STATE_UNREADABLE: (
        "Uploads and comments are paused: this region cannot read the routing state."
    ),
    Situation.UNREACHABLE: (
        "Uploads and comments are paused: neither region's state could be read. Retrying…"
    ),
    Situation.REGION_DOWN: (
        "{serving_region} is not answering; uploads and comments are paused on this page."
    ),
}
# Added to the banner when the state shown was read from the other region.
NOTES = {Situation.REGION_DOWN: "(State read from {other_region}.)"}
# The link a page on a regional address offers while another region takes writes.
WRITABLE_LINK = "Continue on {writable_region}"
LINKED = (Situation.READ_ONLY, Situation.REGION_DOWN)
# The banner's colour (static/css/routing.css).
LOOKS = {
    Situation.OPEN: "open",
    Situation.FENCED: "fenced",
    Situation.READ_ONLY: "read-only",
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class WriteStatus:
    situation: Situation
    message: str
    reason: str  # shown next to a disabled write control
    link: str = ""  # the words of the link to the writable region, when there is one

    @property
    def writable_here(self) -> bool:
        return self.situation is Situation.OPEN

    @property
    def look(self) -> str:
        return LOOKS.get(self.situation, "unknown")


def text_fill(template: str, **values: str) -> str:
    """`template` with the `{name}` placeholders it is given filled; others stay.

    The same tiny substitution as state.js's, so that a template can be filled
    partly here and finished by the script.
    """
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), template)


def situation_of(
    *, record: StateRecord | None, serving_region: str, door: bool = False
) -> Situation:
    if record is None:
        return Situation.STATE_UNREADABLE
    if record.writable_region == serving_region or (door and record.writable_region):
        return Situation.OPEN
    if record.state is RoutingState.FENCED:
        return Situation.FENCED
    return Situation.READ_ONLY


def banner_texts(*, serving_region: str, door: bool = False) -> dict[str, dict[str, str]]:
    """The banner, reason and link of every situation, as served to the script.

    Through the door, `{serving_region}` is left for the script: the region that
    answers its polls is the one serving the page's requests now.
    """
    values = {
        "serving_region": serving_region,
        "serving_role": "primary" if serving_region == settings.MRA_PRIMARY_REGION else "secondary",
        "other_region": next(
            (region for region in settings.MRA_REGION_URLS if region != serving_region), ""
        ),
    }
    if door:
        del values["serving_region"]
    texts: dict[str, dict[str, str]] = {}
    for situation, reason in REASONS.items():
        note = "" if door else NOTES.get(situation, "")
        parts = [DOOR_WHERE if door else WHERE, reason or WRITES_OPEN, note]
        texts[situation.value] = {
            "banner": text_fill(" ".join(part for part in parts if part), **values),
            "reason": text_fill(reason, **values),
            "look": LOOKS.get(situation, "unknown"),
            "link": "" if door or situation not in LINKED else WRITABLE_LINK,
        }
    return texts


def write_status(
    *, record: StateRecord | None, serving_region: str, door: bool = False
) -> WriteStatus:
    situation = situation_of(record=record, serving_region=serving_region, door=door)
    text = banner_texts(serving_region=serving_region, door=door)[situation.value]
    values = {"serving_region": serving_region}
    if record:
        values["writable_region"] = record.writable_region or ""
    return WriteStatus(
        situation,
        text_fill(text["banner"], **values),
        text_fill(text["reason"], **values),
        text_fill(text["link"], **values),
    )
