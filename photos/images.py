"""Deciding whether uploaded bytes are a clean image, and re-encoding them.

The type comes from decoding the content with Pillow, never from the file name
or the declared content type. What is stored is a fresh encoding of the decoded
pixels, so nothing the uploader hid in the file (EXIF, GPS, comments, trailing
data) survives even if a check below were to miss it.
"""

import ctypes
import ctypes.util
import io
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageRefused, ImagesBusy

THUMBNAIL_LONGEST_SIDE = 480
# The size pages show: never larger than the photo itself.
DISPLAY_LONGEST_SIDE = 1600
READ_CHUNK = 256 * 1024
# Room for the multipart boundaries and the other fields around the file.
MULTIPART_OVERHEAD = 64 * 1024

FORMATS = {
    # Pillow format: (extension, content type)
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
# What Pillow may open, and the format it is stored as: a multi-picture JPEG
# (MPF, from phone cameras) is read as MPO and stored as its first picture.
FORMATS_READ = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
# Modes whose bands take more than a byte each once decoded.
_BAND_BYTES = {"I": 4, "F": 4, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# The thumbnail is reduced by a whole factor to at least this many times its
# size, then resampled; the reduction goes this many output rows at a time.
_REDUCING_GAP = 2
_BAND_ROWS = 32
# Uploads that find every decoding slot taken wait this long before 503.
DECODE_WAIT_SECONDS = 5.0
_M_MMAP_THRESHOLD = -3
_slots_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None

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
    display: "Rendition"


@dataclass(frozen=True)
class Rendition:
    """A WebP the pages show instead of the original."""

    data: bytes
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
    """Validate `data` as a clean JPEG, PNG or WebP and re-encode it without metadata.

    The size is checked from the header before any pixel is decoded, and at most
    MRA_IMAGE_DECODES images are decoded at once in this process; ImagesBusy when
    no slot frees up within DECODE_WAIT_SECONDS.
    """
    image = _open(data, max_pixels=max_pixels)
    image_format = FORMATS_READ[str(image.format)]
    _refuse_polyglot(data, image_format)
    with _decode_slot():
        return _convert(image, image_format)


def _open(data: bytes, *, max_pixels: int) -> Image.Image:
    """The image with its header read and checked; no pixel decoded yet."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError as exc:
        raise _not_an_image() from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(0, 0, max_pixels) from exc
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise _corrupt() from exc
    if image.format not in FORMATS_READ:
        raise _not_an_image()
    width, height = image.size
    if width * height > max_pixels or decoded_bytes(image) > max_pixels * 4:
        raise _too_many_pixels(width, height, max_pixels)
    return image


def decoded_bytes(image: Image.Image) -> int:
    """What decoding `image` allocates, from its header: pixels x bands x bytes per band."""
    band_bytes = _BAND_BYTES.get(image.mode, 1)
    return image.width * image.height * len(image.getbands()) * band_bytes


def _convert(image: Image.Image, image_format: str) -> ProcessedImage:
    # One full-size buffer at a time: decoded, turned upright and stripped in
    # place where Pillow allows; the display size is resampled from it, and the
    # thumbnail from the display size.
    clean = _clean_decoded(image, image_format)
    del image
    try:
        original = _encode(clean, image_format)
        width, height = clean.size
        display_image = _display_image(clean)
        del clean
        display = Rendition(_display_encode(display_image), *display_image.size)
        # From the display size, at most 1600 px: far less to resample than the original.
        small = _reduced(display_image, longest=THUMBNAIL_LONGEST_SIDE * _REDUCING_GAP)
        del display_image
        small.thumbnail((THUMBNAIL_LONGEST_SIDE, THUMBNAIL_LONGEST_SIDE), Image.Resampling.LANCZOS)
        thumbnail = _encode(small, "WEBP")
    except (OSError, ValueError) as exc:
        raise _unconvertible() from exc
    extension, content_type = FORMATS[image_format]
    return ProcessedImage(
        original=original,
        thumbnail=thumbnail,
        extension=extension,
        content_type=content_type,
        width=width,
        height=height,
        display=display,
    )


def display_rendition(*, data: bytes, max_pixels: int) -> Rendition:
    """The display size of a stored original (`manage.py photos_renditions`): the
    same checks, decoding slot and resampling as an upload's."""
    image = _open(data, max_pixels=max_pixels)
    image_format = FORMATS_READ[str(image.format)]
    with _decode_slot():
        clean = _clean_decoded(image, image_format)
        del image
        try:
            display_image = _display_image(clean)
            del clean
            return Rendition(_display_encode(display_image), *display_image.size)
        except (OSError, ValueError) as exc:
            raise _unconvertible() from exc


def _clean_decoded(image: Image.Image, image_format: str) -> Image.Image:
    """`image` decoded, turned upright and without its metadata."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        raise _corrupt() from exc
    try:
        ImageOps.exif_transpose(image, in_place=True)
        return _without_metadata(image, image_format)
    except (OSError, ValueError) as exc:
        raise _unconvertible() from exc


def display_size(width: int, height: int) -> tuple[int, int]:
    """The display size of a `width` x `height` photo: longest side DISPLAY_LONGEST_SIDE,
    never upscaled. The same rounding as Pillow's thumbnail()."""
    return _fitted(width, height, DISPLAY_LONGEST_SIDE)


def thumbnail_size(width: int, height: int) -> tuple[int, int]:
    """The thumbnail size of a `width` x `height` photo (approximate to a pixel)."""
    return _fitted(width, height, THUMBNAIL_LONGEST_SIDE)


def _fitted(width: int, height: int, longest: int) -> tuple[int, int]:
    if max(width, height) <= longest:
        return width, height
    if width >= height:
        return longest, max(1, round(height * longest / width))
    return max(1, round(width * longest / height)), longest


def _display_image(clean: Image.Image) -> Image.Image:
    """`clean` resampled to its display size; `clean` itself when already small enough."""
    if max(clean.size) <= DISPLAY_LONGEST_SIDE:
        return clean
    display = _reduced(clean, longest=DISPLAY_LONGEST_SIDE * _REDUCING_GAP)
    if display is clean:
        # Less than twice the display size: one resampling, never in place.
        return clean.resize(display_size(*clean.size), Image.Resampling.LANCZOS)
    display.thumbnail((DISPLAY_LONGEST_SIDE, DISPLAY_LONGEST_SIDE), Image.Resampling.LANCZOS)
    return display


def _unconvertible() -> ImageRefused:
    return ImageRefused(
        "corrupt_image",
        "The image uses an encoding this site cannot convert. "
        "Export it again as an ordinary JPEG, PNG or WebP.",
    )


def _reduced(image: Image.Image, *, longest: int) -> Image.Image:
    """`image` shrunk by a whole factor to about `longest` pixels on its longest side,
    band by band: Pillow's own reduce of an image with alpha would first copy it
    whole to premultiplied alpha."""
    factor = max(1, max(image.size) // longest)
    if factor == 1:
        return image
    width, height = image.size
    small = Image.new(image.mode, (-(-width // factor), -(-height // factor)))
    band = factor * _BAND_ROWS
    for top in range(0, height, band):
        part = image.crop((0, top, width, min(top + band, height)))
        small.paste(part.reduce(factor), (0, top // factor))
    return small


def _decode_slots(count: int) -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _large_buffers_unmapped()
        if _slots is None or _slots[0] != count:
            _slots = (count, threading.BoundedSemaphore(count))
        return _slots[1]


def _large_buffers_unmapped() -> None:
    """Have glibc map every allocation over 4 MB (Pillow's image blocks) on its own.

    By default glibc raises that threshold after the first such block is freed, and
    later blocks come from per-thread arenas that keep freed memory: a threaded
    worker that decoded a few large images holds their size for good."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 4 * 1024 * 1024)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator decides


@contextmanager
def _decode_slot() -> Iterator[None]:
    slots = _decode_slots(max(1, settings.MRA_IMAGE_DECODES))
    if not slots.acquire(timeout=DECODE_WAIT_SECONDS):
        raise ImagesBusy()
    try:
        yield
    finally:
        slots.release()


def _not_an_image() -> ImageRefused:
    return ImageRefused(
        "unsupported_type",
        "This file is not a JPEG, PNG or WebP image (whatever its name says). "
        "Choose a photo in one of those formats.",
    )


def _corrupt() -> ImageRefused:
    return ImageRefused(
        "corrupt_image",
        "The image is truncated or damaged and cannot be read. "
        "Try exporting it again from your photo app.",
    )


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
    # convert() would copy a full-size buffer even to the same mode.
    clean = image if image.mode == mode else image.convert(mode)
    # The file's info (EXIF, ICC, XMP, text chunks) is not kept.
    clean.info = {}
    return clean


def _encode(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    options = {"JPEG": {"quality": 90}, "WEBP": {"quality": 82}, "PNG": {}}[image_format]
    image.save(out, format=image_format, **options)
    return out.getvalue()


def _display_encode(image: Image.Image) -> bytes:
    """The display size as WebP. Effort 2 of 6: a 900x1600 photo encodes several
    times faster than at the default 4, for a file about a tenth larger."""
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=82, method=2)
    return out.getvalue()


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"
