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
