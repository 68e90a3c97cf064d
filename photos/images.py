"""Deciding whether uploaded bytes are a clean image, and re-encoding them.

The type comes from decoding the content with Pillow, never from the file name
or the declared content type. What is stored is a fresh encoding of the decoded
pixels, so nothing the uploader hid in the file (EXIF, GPS, comments, trailing
data) survives even if a check below were to miss it.
"""

import io
import struct
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageRefused

THUMBNAIL_LONGEST_SIDE = 480
READ_CHUNK = 256 * 1024
# Room for the multipart boundaries and the other fields around the file.
MULTIPART_OVERHEAD = 64 * 1024

FORMATS = {
    # Pillow format: (extension, content type)
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}

# Markup or script inside an image file is how image/HTML polyglots work; no
# honest photo carries these byte strings.
_MARKUP = (b"<script", b"<html", b"<svg", b"<?php", b"<!doctype", b"<iframe", b"javascript:")
_PNG_END = b"IEND\xaeB`\x82"


@dataclass(frozen=True)
class ProcessedImage:
    original: bytes
    thumbnail: bytes
    extension: str
    content_type: str
    width: int
    height: int


def read_limited(stream: BinaryIO, *, max_bytes: int) -> bytes:
    """Read at most `max_bytes`; refuse as soon as the stream proves longer."""
    buffer = io.BytesIO()
    while True:
        chunk = stream.read(min(READ_CHUNK, max_bytes + 1 - buffer.tell()))
        if not chunk:
            break
        buffer.write(chunk)
        if buffer.tell() > max_bytes:
            raise too_large(max_bytes)
    data = buffer.getvalue()
    if not data:
        raise empty_file()
    return data


def empty_file() -> ImageRefused:
    return ImageRefused("empty_file", "The file is empty. Choose a JPEG, PNG or WebP photo.")


def declared_length_check(*, content_length: str | None, max_bytes: int) -> None:
    """Refuse a request whose declared body length cannot hold an acceptable
    file, before any of the body is read."""
    declared = int(content_length) if content_length and content_length.isdigit() else 0
    if declared > max_bytes + MULTIPART_OVERHEAD:
        raise too_large(max_bytes)


def too_large(max_bytes: int) -> ImageRefused:
    return ImageRefused(
        "file_too_large",
        f"The file is larger than {_megabytes(max_bytes)}. Choose a smaller photo "
        "or export it at a lower quality.",
    )


def image_process(*, data: bytes, max_pixels: int) -> ProcessedImage:
    """Validate `data` as a clean JPEG, PNG or WebP and re-encode it without metadata."""
    image = _decode(data, max_pixels=max_pixels)
    # Image.open was limited to FORMATS, so a decoded image always names one of them.
    image_format = str(image.format)
    _refuse_polyglot(data, image_format)
    extension, content_type = FORMATS[image_format]
    try:
        upright = ImageOps.exif_transpose(image)
        clean = _without_metadata(upright, image_format)
        original = _encode(clean, image_format)
        thumb = clean.copy()
        thumb.thumbnail((THUMBNAIL_LONGEST_SIDE, THUMBNAIL_LONGEST_SIDE), Image.Resampling.LANCZOS)
        thumbnail = _encode(thumb, "WEBP")
    except (OSError, ValueError) as exc:
        raise ImageRefused(
            "corrupt_image",
            "The image uses an encoding this site cannot convert. "
            "Export it again as an ordinary JPEG, PNG or WebP.",
        ) from exc
    return ProcessedImage(
        original=original,
        thumbnail=thumbnail,
        extension=extension,
        content_type=content_type,
        width=clean.width,
        height=clean.height,
    )


def _decode(data: bytes, *, max_pixels: int) -> Image.Image:
    not_an_image = ImageRefused(
        "unsupported_type",
        "This file is not a JPEG, PNG or WebP image (whatever its name says). "
        "Choose a photo in one of those formats.",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            # The header alone gives the size: refuse before decoding any pixels.
            if image.width * image.height > max_pixels:
                raise _too_many_pixels(image.width, image.height, max_pixels)
            image.load()
    except ImageRefused:
        raise
    except UnidentifiedImageError as exc:
        raise not_an_image from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(0, 0, max_pixels) from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise ImageRefused(
            "corrupt_image",
            "The image is truncated or damaged and cannot be read. "
            "Try exporting it again from your photo app.",
        ) from exc
    if image.format not in FORMATS:
        raise not_an_image
    return image


def _too_many_pixels(width: int, height: int, max_pixels: int) -> ImageRefused:
    size = f" ({width} × {height})" if width and height else ""
    return ImageRefused(
        "too_many_pixels",
        f"The image has too many pixels{size}; the limit is "
        f"{max_pixels / 1_000_000:g} megapixels. Resize it and try again.",
    )


def _refuse_polyglot(data: bytes, image_format: str) -> None:
    lowered = data.lower()
    hidden_markup = any(marker in lowered for marker in _MARKUP)
    if hidden_markup or _trailing_bytes(data, image_format):
        raise ImageRefused(
            "not_a_clean_image",
            "The file contains data besides the image (for example a web page or an "
            "archive hidden in it) and is refused. Export the photo again and upload that.",
        )


def _trailing_bytes(data: bytes, image_format: str) -> bool:
    """True when something follows the image's own end marker."""
    if image_format == "JPEG":
        # Some cameras pad the file with zeros after the end-of-image marker.
        return not data.rstrip(b"\x00").endswith(b"\xff\xd9")
    if image_format == "PNG":
        return not data.endswith(_PNG_END)
    riff_size = struct.unpack("<I", data[4:8])[0]
    return len(data) > riff_size + 8 + (riff_size & 1)


def _without_metadata(image: Image.Image, image_format: str) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if has_alpha and image_format != "JPEG" else "RGB"
    clean = image.convert(mode)
    # convert() copies info (EXIF, ICC, XMP, text chunks); none of it is kept.
    clean.info = {}
    return clean


def _encode(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    options = {"JPEG": {"quality": 90}, "WEBP": {"quality": 82}, "PNG": {}}[image_format]
    image.save(out, format=image_format, **options)
    return out.getvalue()


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"
