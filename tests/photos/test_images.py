"""Image checks on plain bytes: no emulator, no HTTP."""

import io
import struct
import zlib

import pytest
from PIL import Image, ImageFile

from mra_site.api import exception_handler
from photos import images
from photos.errors import ImageRefused, ImagesBusy
from photos.images import THUMBNAIL_LONGEST_SIDE, decoded_bytes, image_process, read_limited
from tests.photos.conftest import crafted_refusals, image_bytes

MAX_BYTES = 40_000
MAX_PIXELS = 40_000_000
CASES = crafted_refusals()


@pytest.mark.parametrize(("name", "data", "code"), CASES, ids=[case[0] for case in CASES])
def test_each_crafted_file_is_refused_with_its_reason(name, data, code):
    with pytest.raises(ImageRefused) as refused:
        image_process(
            data=read_limited(io.BytesIO(data), max_bytes=MAX_BYTES), max_pixels=MAX_PIXELS
        )
    assert refused.value.code == code, name
    assert len(refused.value.detail) > 20


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_a_clean_image_is_re_encoded_with_a_bounded_thumbnail(image_format):
    processed = image_process(
        data=image_bytes(image_format, size=(1200, 600)), max_pixels=MAX_PIXELS
    )
    assert (processed.width, processed.height) == (1200, 600)
    assert Image.open(io.BytesIO(processed.original)).format == image_format
    thumbnail = Image.open(io.BytesIO(processed.thumbnail))
    assert thumbnail.format == "WEBP"
    assert max(thumbnail.size) == THUMBNAIL_LONGEST_SIDE


def test_metadata_is_stripped():
    exif = Image.Exif()
    exif[0x010F] = "ExampleCam"
    processed = image_process(data=image_bytes("JPEG", exif=exif.tobytes()), max_pixels=MAX_PIXELS)
    assert not Image.open(io.BytesIO(processed.original)).getexif()


def png_header_only(width: int, height: int, *, color_type: int = 6) -> bytes:
    """A PNG that declares `width` x `height` (RGBA by default) around a few bytes of data."""

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def all_zero_rgba_png(side: int) -> bytes:
    """What Pillow writes for Image.new("RGBA", (side, side)), without the full-size buffer."""
    row = b"\x00" * (1 + side * 4)
    deflate = zlib.compressobj()
    data = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()
    return png_header_only(side, side)[:33] + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.mark.parametrize("side", [7000, 20000])
def test_too_many_pixels_are_refused_from_the_header_without_decoding(monkeypatch, side):
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: decoded.append(image))
    with pytest.raises(ImageRefused) as refused:
        image_process(data=png_header_only(side, side), max_pixels=MAX_PIXELS)
    assert refused.value.code == "too_many_pixels"
    assert "the limit is 40 megapixels" in refused.value.detail
    assert decoded == []


def test_decoded_size_counts_every_band_from_the_header():
    rgba = Image.open(io.BytesIO(png_header_only(6324, 6324)))
    grey = Image.open(io.BytesIO(png_header_only(6324, 6324, color_type=0)))
    assert decoded_bytes(rgba) == 6324 * 6324 * 4
    assert decoded_bytes(grey) == 6324 * 6324
    with pytest.raises(ImageRefused):
        image_process(data=png_header_only(4000, 4000), max_pixels=4000 * 4000 * 4 // 5)


def test_an_all_zero_rgba_png_under_the_pixel_limit_is_a_photo():
    side = 6324
    processed = image_process(data=all_zero_rgba_png(side), max_pixels=MAX_PIXELS)
    assert (processed.width, processed.height, processed.extension) == (side, side, "png")
    original = Image.open(io.BytesIO(processed.original))
    assert (original.size, original.mode) == ((side, side), "RGBA")
    thumbnail = Image.open(io.BytesIO(processed.thumbnail))
    assert thumbnail.size == (THUMBNAIL_LONGEST_SIDE, THUMBNAIL_LONGEST_SIDE)
    assert thumbnail.getextrema() == ((0, 0),) * 4


def test_a_multi_picture_jpeg_is_stored_as_its_first_picture():
    out = io.BytesIO()
    first = Image.new("RGB", (300, 200), (200, 80, 40))
    first.save(out, format="MPO", save_all=True, append_images=[Image.new("RGB", (64, 64))])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    processed = image_process(data=out.getvalue(), max_pixels=MAX_PIXELS)
    assert (processed.extension, processed.content_type) == ("jpg", "image/jpeg")
    stored = Image.open(io.BytesIO(processed.original))
    assert (stored.format, stored.size) == ("JPEG", (300, 200))
    assert "mp" not in stored.info and stored.getpixel((150, 100))[0] > 150


def test_a_decode_beyond_the_slots_waits_then_answers_busy(monkeypatch, settings):
    settings.MRA_IMAGE_DECODES = 1
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.01)
    slots = images._decode_slots(1)
    assert slots.acquire(timeout=1)
    try:
        with pytest.raises(ImagesBusy) as busy:
            image_process(data=image_bytes("PNG"), max_pixels=MAX_PIXELS)
    finally:
        slots.release()
    answer = exception_handler(busy.value, {})
    assert answer.status_code == 503 and answer["Retry-After"] == "2"
    assert answer.data["error"] == "busy" and "nothing was stored" in answer.data["detail"]
    assert image_process(data=image_bytes("PNG"), max_pixels=MAX_PIXELS).extension == "png"
