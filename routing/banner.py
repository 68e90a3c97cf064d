"""What a page says about writing here: the banner and the reason on disabled controls.

Every sentence lives here. The server renders the banner with them, and gives
state.js the same sentences (`banner_texts`) with only `{writable_region}` left
for the script to fill from the state it polls, so the script keeps no copy.

A page served through the front door (`mra_site.middleware.served_through_door`)
speaks to the site's users: no region, no architecture, nothing at all while
writes are open, and never the operator's reason. Region details are for the
footer and for operators, on the regional addresses.
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


PAUSED = "Uploads and comments are paused for a moment."
UNREACHABLE = "Connection lost; uploads and comments are paused. Retrying…"
# What a page says through the front door: the site as its users know it, one
# sentence, nothing about where it runs. While writes are open it says nothing.
DOOR_REASONS = {
    Situation.OPEN: "",
    Situation.FENCED: PAUSED,
    Situation.READ_ONLY: PAUSED,
    Situation.STATE_UNREADABLE: PAUSED,
    Situation.UNREACHABLE: UNREACHABLE,
    Situation.REGION_DOWN: UNREACHABLE,
}
# A regional address is for operators and engineers: it may name the region
# that takes writes (and link to it), in words a person reads without the manual.
REASONS = {
    **DOOR_REASONS,
    Situation.READ_ONLY: (
        "This address only shows photos for now; uploads and comments are taken on "
        "{writable_region}."
    ),
    Situation.STATE_UNREADABLE: (
        "Uploads and comments are paused: this address cannot check whether it may take them."
    ),
    Situation.REGION_DOWN: (
        "{serving_region} is not answering; uploads and comments are paused on this page."
    ),
}
# Not shown: announced to screen readers when writes reopen, as the banner goes quiet.
REOPENED = "Uploads and comments are open again."
# Added to the banner (not to the reason by the controls) on a regional address.
NOTES = {Situation.REGION_DOWN: "(Checked with {other_region}.)"}
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

    The banner is the reason alone (empty while writes are open), plus a note
    on a regional address; only `{writable_region}` is left for the script.
    """
    values = {
        "serving_region": serving_region,
        "other_region": next(
            (region for region in settings.MRA_REGION_URLS if region != serving_region), ""
        ),
    }
    texts: dict[str, dict[str, str]] = {}
    for situation, reason in (DOOR_REASONS if door else REASONS).items():
        note = "" if door else NOTES.get(situation, "")
        banner = text_fill(" ".join(part for part in (reason, note) if part), **values)
        texts[situation.value] = {
            "banner": banner,
            "announce": banner or REOPENED,
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
