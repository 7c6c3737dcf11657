"""Small labelled image sets drawn on the fly: each class a colour and a shape, on noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = {
    "red circle": ((220, 40, 40), "ellipse"),
    "green square": ((40, 190, 60), "rectangle"),
    "blue triangle": ((40, 60, 220), "triangle"),
}


def write_shapes(
    root: Path, per_class: int = 8, size: tuple[int, int] = (64, 48), seed: int = 0
) -> Path:
    """A folder per label (names with spaces), `per_class` PNG images each; returns root."""
    rng = np.random.default_rng(seed)
    for label, (colour, shape) in CLASSES.items():
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            _draw(rng, colour, shape, size).save(folder / f"image {index}.png")
    return root


def _draw(
    rng: np.random.Generator, colour: tuple[int, int, int], shape: str, size: tuple[int, int]
) -> Image.Image:
    width, height = size
    noise = rng.integers(0, 90, (height, width, 3), dtype=np.uint8)
    image = Image.fromarray(noise, "RGB")
    draw = ImageDraw.Draw(image)
    extent = int(rng.integers(min(size) // 2, min(size) - 4))
    left = int(rng.integers(0, width - extent))
    top = int(rng.integers(0, height - extent))
    box = (left, top, left + extent, top + extent)
    jitter = tuple(int(min(255, max(0, c + rng.integers(-20, 20)))) for c in colour)
    if shape == "ellipse":
        draw.ellipse(box, fill=jitter)
    elif shape == "rectangle":
        draw.rectangle(box, fill=jitter)
    else:
        draw.polygon(
            [(left, top + extent), (left + extent, top + extent), (left + extent // 2, top)],
            fill=jitter,
        )
    return image
