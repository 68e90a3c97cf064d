"""What a page says about writing here: the banner and the reason on disabled controls."""

from dataclasses import dataclass

from django.conf import settings

from .selectors import StateRecord
from .states import RoutingState


@dataclass(frozen=True)
class WriteStatus:
    writable_here: bool
    message: str
    reason: str  # shown next to a disabled write control


def write_status(*, record: StateRecord | None, serving_region: str) -> WriteStatus:
    role = "primary" if serving_region == settings.MRA_PRIMARY_REGION else "secondary"
    where = f"You are on {serving_region} ({role})."
    if record is None:
        reason = "Uploads and comments are paused: this region cannot read the routing state."
        return WriteStatus(False, f"{where} {reason}", reason)
    if record.writable_region == serving_region:
        return WriteStatus(True, f"{where} Uploads and comments are open.", "")
    if record.state is RoutingState.FENCED:
        reason = (
            "Uploads and comments are paused while operators move the site between regions; "
            "they reopen by themselves."
        )
        return WriteStatus(False, f"{where} {reason}", reason)
    reason = f"This region is read-only; uploads and comments go to {record.writable_region}."
    return WriteStatus(False, f"{where} {reason}", reason)
