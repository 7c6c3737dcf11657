"""Turning an image into the model's input: the one definition used everywhere.

Training, `modelyard.predict` and the generated starter code all preprocess with this module, so
a prediction in a user's app sees exactly what the model saw in training. It imports only Pillow
and NumPy because the code generator copies this file, as it is, into `<Name>.Model/`.

Steps: upright by EXIF orientation, first frame, RGB (transparency on white, 16-bit scaled),
resize the shorter side to `resize` (bilinear, antialiased), center-crop `crop`×`crop`, scale to
[0, 1], subtract `mean` and divide by `std` per channel, channels first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

RESIZE = 256
CROP = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_WHITE = (255, 255, 255, 255)


def default_spec() -> dict[str, Any]:
    """The preprocessing block of an MLModel.zip manifest."""
    return {
        "resize": RESIZE,
        "crop": CROP,
        "interpolation": "bilinear",
        "color": "RGB",
        "scale": 1 / 255,
        "mean": list(IMAGENET_MEAN),
        "std": list(IMAGENET_STD),
        "layout": "NCHW",
    }


def load_image(path: str | Path) -> Image.Image:
    """Open an image file as upright 8-bit RGB (first frame of an animation)."""
    with Image.open(path) as image:
        image.load()
        return to_rgb(upright(image))


def upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except (ValueError, TypeError, KeyError, SyntaxError, OSError):
        # A broken EXIF block should not cost a good image: keep it as stored.
        return image


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode as 8-bit RGB; transparency is composited onto white."""
    if image.mode.startswith("I;16") or image.mode == "I":
        return _sixteen_bit_to_gray(image).convert("RGB")
    if image.mode == "F":
        return image.convert("L").convert("RGB")
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, _WHITE), rgba).convert("RGB")
    return image.convert("RGB")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"LA", "La", "PA", "RGBA", "RGBa"} or "transparency" in image.info


def _sixteen_bit_to_gray(image: Image.Image) -> Image.Image:
    # Pillow's own conversion clips at 255 (so 300 and 65535 both become white);
    # scale the 16-bit range instead: 65535 / 257 = 255.
    return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")


def to_input(image: Image.Image, spec: dict[str, Any] | None = None) -> Any:
    """One RGB image as a float32 array [3, crop, crop], normalized as `spec` says."""
    spec = spec or default_spec()
    resized = _resize_shorter_side(image, int(spec["resize"]))
    cropped = _center_crop(resized, int(spec["crop"]))
    pixels = np.asarray(cropped, dtype=np.float32) * np.float32(spec["scale"])
    mean = np.asarray(spec["mean"], dtype=np.float32)
    std = np.asarray(spec["std"], dtype=np.float32)
    return np.ascontiguousarray(((pixels - mean) / std).transpose(2, 0, 1))


def to_batch(images: list[Image.Image], spec: dict[str, Any] | None = None) -> Any:
    """Images as one float32 array [N, 3, crop, crop]."""
    return np.stack([to_input(image, spec) for image in images])


def _resize_shorter_side(image: Image.Image, size: int) -> Image.Image:
    width, height = image.size
    scale = size / min(width, height)
    target = (max(size, round(width * scale)), max(size, round(height * scale)))
    if target == image.size:
        return image
    return image.resize(target, Image.Resampling.BILINEAR)


def _center_crop(image: Image.Image, size: int) -> Image.Image:
    width, height = image.size
    left = (width - size) // 2
    top = (height - size) // 2
    return image.crop((left, top, left + size, top + size))
