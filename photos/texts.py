"""What photos.js may say, served with the page so that the script keeps no copy."""

from .images import empty_file, too_large


def photos_script_texts(*, max_bytes: int) -> dict[str, str]:
    """The upload checks the browser makes early, in the server's own words, and "Loading…"."""
    return {
        "empty_file": empty_file().detail,
        "too_large": too_large(max_bytes).detail,
        "not_a_photo": (
            "This file does not look like a photo your browser can show; "
            "the site will check it when you upload."
        ),
        "loading": "Loading…",
    }
