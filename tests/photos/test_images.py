"""Image checks on plain bytes: no emulator, no HTTP."""

import io

import pytest
from PIL import Image

from photos.errors import ImageRefused
from photos.images import THUMBNAIL_LONGEST_SIDE, image_process, read_limited
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
