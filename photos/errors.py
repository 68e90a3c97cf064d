"""What the photo services refuse, with a code and a message a person can act on."""

from mra_site.errors import ApplicationError


class PhotoError(ApplicationError):
    def __init__(self, code: str, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, code=code, field=field)


class ImageRefused(PhotoError):
    """The uploaded file is not an acceptable image."""

    field = "image"


class ImagesBusy(PhotoError):
    """Every decoding slot of this process stayed taken while the upload waited."""

    status = 503
    title = "Busy converting photos"
    retry_after = 2

    def __init__(self) -> None:
        super().__init__(
            "busy",
            "The site is converting other photos right now. "
            "Send yours again in a few seconds; nothing was stored.",
        )


class InvalidInput(PhotoError):
    """A title, comment, limit or cursor is not acceptable."""


class PhotoNotFound(PhotoError):
    status = 404
    title = "Photo not found"

    def __init__(self, photo_id: str) -> None:
        super().__init__("not_found", "No photo with this id exists (it may have been deleted).")
        self.photo_id = photo_id


class NotOwner(PhotoError):
    status = 403
    title = "Not yours"

    def __init__(self) -> None:
        super().__init__("permission_denied", "Only the owner of a photo can delete it.")


class InvalidCursor(InvalidInput):
    def __init__(self) -> None:
        super().__init__(
            "invalid_cursor",
            "The cursor is not valid for this list. Start again from the first page.",
        )
