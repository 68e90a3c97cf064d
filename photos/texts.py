"""Texts: what people type (titles, comments) made safe to store and show, and
what photos.js may say, served with the page so that the script keeps no copy."""

import unicodedata

from .errors import InvalidInput
from .images import empty_file, too_large

# Fields written on several lines: a comment may hold line breaks and tabs, a title not.
MULTILINE_FIELDS = frozenset({"message"})
# Format characters that join letters or mark direction in ordinary writing
# (Persian, Indic scripts, emoji sequences; left-to-right and right-to-left marks).
# Every other format character (bidi embeddings, overrides and isolates,
# zero-width spaces, soft hyphens, tag characters) can hide or reorder text.
_FORMAT_KEPT = frozenset("\u200c\u200d\u200e\u200f\u061c")
_BIDI_CONTROLS = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
_LINE_BREAK = "a line break"
_LINE_SEPARATORS = ("\r\n", "\r", "\u2028", "\u2029", "\x85")


def text_clean(value: str | None, *, field: str, noun: str) -> str:
    """`value` in Unicode NFC without surrounding space, line breaks as "\\n";
    InvalidInput ("invalid_<field>") naming the first character that could hide,
    reorder or break the text (control, bidi override or isolate, invisible format,
    unpaired surrogate), or any line break in a one-line field."""
    text = value or ""
    if field in MULTILINE_FIELDS:
        for separator in _LINE_SEPARATORS:
            text = text.replace(separator, "\n")
    text = unicodedata.normalize("NFC", text).strip()
    for position, char in enumerate(text, start=1):
        reason = _refused_because(char, multiline=field in MULTILINE_FIELDS)
        if reason:
            raise InvalidInput(
                f"invalid_{field}",
                f"The {noun} contains {reason} (U+{ord(char):04X}{_name(char)}) "
                f"at character {position}. "
                + (
                    "Keep it to one line." if reason == _LINE_BREAK else "Remove it and send again."
                ),
                field=field,
            )
    return text


def _refused_because(char: str, *, multiline: bool) -> str:
    category = unicodedata.category(char)
    if char in "\n\t" and multiline:
        return ""
    if char == "\n" or category in ("Zl", "Zp"):
        return _LINE_BREAK
    if category == "Cc":
        return "a control character"
    if category == "Cs":
        return "a broken character"
    if category == "Cf" and char not in _FORMAT_KEPT:
        if unicodedata.bidirectional(char) in _BIDI_CONTROLS:
            return "a character that reverses or reorders how text is shown"
        return "an invisible formatting character"
    return ""


def _name(char: str) -> str:
    name = unicodedata.name(char, "")
    return f" {name}" if name else ""


TITLE_REQUIRED = "Give the photo a title."
IMAGE_REQUIRED = "Choose a photo to upload."
COMMENT_REQUIRED = "Write a comment before sending it."
NEWEST_PHOTO = "This is the newest photo."
OLDEST_PHOTO = "This is the oldest photo."
SIGNED_OUT = "You are signed out. Sign in again in another tab, then retry: the photo stays here."


def photos_script_texts(*, max_bytes: int) -> dict[str, str]:
    """What photos.js, upload.js and forms.js say, in the server's own words: the checks
    the browser makes before sending, progress and results. `{name}` is filled in."""
    from .services import COMMENT_MAX_LENGTH, TITLE_MAX_LENGTH  # services imports this module

    return {
        "empty_file": empty_file().detail,
        "too_large": too_large(max_bytes).detail,
        "unsupported_type": (
            "This file is not a JPEG, PNG or WebP photo. Choose a photo in one of those formats."
        ),
        "not_a_photo": (
            "This file does not look like a photo your browser can show; "
            "the site will check it when you upload."
        ),
        "loading": "Loading…",
        "title_required": TITLE_REQUIRED,
        "title_too_long": (
            f"Keep the title to {TITLE_MAX_LENGTH} characters; this one has {{count}}."
        ),
        "image_required": IMAGE_REQUIRED,
        "title_label": "Title for {name}",
        "photos_label": "Photos",
        "progress_label": "Sending {name}",
        "remove": "Remove",
        "retry": "Retry",
        "ready": "Ready to upload",
        "refused_before_sending": "Not sent: ",
        "sending": "Sending {sent} of {total}",
        "checking": "Sent; the site is checking and storing it…",
        "uploaded": "Uploaded",
        "view_photo": "View “{title}”",
        "waiting": "Waiting: {detail} It will be sent when uploads reopen.",
        "network_error": (
            "The upload did not get an answer. Check your connection, then retry: "
            "the photo will be stored only once."
        ),
        "unexpected": (
            "The site answered in an unexpected way (HTTP {status}). Retry, or reload the page."
        ),
        "summary_done": "{done} of {total} photos uploaded.",
        "counter": f"{{count}} / {COMMENT_MAX_LENGTH}",
        "counter_left": "{left} characters left.",
        "comment_too_long": (
            f"This comment has {{count}} characters; the limit is {COMMENT_MAX_LENGTH}. "
            "Shorten it by {over} before sending. Nothing was cut."
        ),
        "comment_required": COMMENT_REQUIRED,
    }
