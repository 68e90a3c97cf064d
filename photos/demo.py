"""Demo photos drawn with Pillow (nothing downloaded), for a gallery that is
not empty on first start."""

import hashlib
import io
import math
import random

from PIL import Image, ImageDraw

DEMO_TITLES = (
    "Dawn over the estuary",
    "Harbour lights",
    "Orchard in late summer",
    "First snow on the ridge",
    "Desert evening",
    "Tide pools",
    "Lavender field",
    "City at blue hour",
)


# Landscape, portrait and square, as a phone's camera roll has them; small, so
# seeding stays quick (the display size of each is its own size).
DEMO_SIZES = ((960, 640), (720, 1280), (900, 900), (1200, 800))


def demo_photo_id(index: int) -> str:
    """Stable ids, so bootstrapping twice (or both regions) seeds the same photos."""
    return hashlib.sha256(f"mra-demo-photo-{index}".encode()).hexdigest()[:32]


def demo_image(index: int, *, size: tuple[int, int] | None = None) -> bytes:
    """A JPEG of a sky gradient, a sun and layered hills; DEMO_SIZES in turn by default."""
    rng = random.Random(index)
    size = size or DEMO_SIZES[index % len(DEMO_SIZES)]
    width, height = size
    top = tuple(rng.randint(20, 120) for _ in range(3))
    bottom = tuple(rng.randint(150, 255) for _ in range(3))
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    sun_x, sun_y, radius = rng.randint(100, width - 100), rng.randint(60, height // 2), 50
    draw.ellipse(
        [sun_x - radius, sun_y - radius, sun_x + radius, sun_y + radius],
        fill=(255, rng.randint(180, 240), rng.randint(80, 160)),
    )
    for layer in range(3):
        base = height * (0.55 + 0.15 * layer)
        phase, amplitude = rng.uniform(0, math.tau), rng.randint(20, 60)
        period = rng.randint(60, 140)
        shade = 90 - layer * 25
        points = [
            (x, base + amplitude * math.sin(phase + x / period)) for x in range(0, width + 20, 20)
        ]
        color = (shade // 2, shade + rng.randint(0, 40), shade // 2 + rng.randint(0, 30))
        draw.polygon([(0, height), *points, (width, height)], fill=color)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()
