"""Decoding one image safely, from a file or from bytes: Pillow and NumPy only.

Training, the guardrails, `modelyard.predict` and the scoring replica all decode here, so an
image a replica receives over HTTP is read exactly as the training images were. Untrusted bytes
fail in many ways; every failure becomes `ImageUnreadable` with a short reason code.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, Final

from PIL import Image, UnidentifiedImageError

from modelyard.entities.limits import IMAGE_PIXELS_MAX
from modelyard.vision.preprocessing import to_input, to_rgb, upright

# Pillow warns between its own pixel limit and twice that; ours (MAX_IMAGE_PIXELS) is checked
# right after opening. The filter is installed once, here: changing filters per call is not
# thread-safe, and images are decoded in threads.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

IMAGE_FORMATS: Final = ("JPEG", "PNG", "BMP", "GIF", "WEBP")
# 10,000 x 10,000 is accepted; one pixel more is refused.
MAX_IMAGE_PIXELS: Final = IMAGE_PIXELS_MAX


class ImageUnreadable(Exception):
    """One file that cannot be used as an image; `reason` is a short code, str() says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode_image(path: Path) -> Image.Image:
    """The image as RGB, upright by its EXIF orientation, first frame only, fully decoded.

    Raises ImageUnreadable for missing, empty, non-image (or unsupported format), truncated,
    corrupt and too large (over MAX_IMAGE_PIXELS) files; its `reason` is one of "missing",
    "unreadable", "empty", "not_an_image", "truncated", "corrupt", "too_large".
    """
    _check_file(path)
    return _decode(path)


def decode_image_bytes(data: bytes) -> Image.Image:
    """`decode_image` for an image held in memory (a request body, a base64 field)."""
    if not data:
        raise ImageUnreadable("empty", "zero bytes")
    return _decode(io.BytesIO(data))


def load_inputs(paths: Iterable[Path], spec: dict[str, Any] | None = None) -> Any:
    """Model inputs [N, 3, crop, crop] for image files, decoded and shrunk one at a time.

    Each full-size image is dropped as soon as it is preprocessed, so a batch of large photos
    never sits in memory at full size together.
    """
    import numpy as np

    return np.stack([to_input(decode_image(path), spec) for path in paths])


def _decode(source: Path | IO[bytes]) -> Image.Image:
    try:
        with _open_image(source) as image:
            _check_size(image.size)
            image.load()
            return to_rgb(upright(image))
    except ImageUnreadable:
        raise
    except Image.DecompressionBombError as error:
        raise ImageUnreadable("too_large", f"{error}; the limit is {MAX_IMAGE_PIXELS}") from error
    except UnidentifiedImageError as error:
        raise _not_an_image() from error
    except OSError as error:
        raise ImageUnreadable(_decode_failure_reason(error), f"cannot decode: {error}") from error
    except Exception as error:  # decoders of untrusted bytes fail in many ways; all mean "bad file"
        detail = f"cannot decode: {type(error).__name__}: {error}"
        raise ImageUnreadable("corrupt", detail) from error


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError as error:
        raise ImageUnreadable("missing", "no such file") from error
    except OSError as error:
        raise ImageUnreadable("unreadable", f"cannot read: {error.strerror}") from error
    if path.is_dir():
        raise ImageUnreadable("not_an_image", "a folder, not an image file")
    if size == 0:
        raise ImageUnreadable("empty", "zero-byte file")


def _open_image(source: Path | IO[bytes]) -> Image.Image:
    try:
        return Image.open(source, formats=IMAGE_FORMATS)
    except PermissionError as error:
        raise ImageUnreadable("unreadable", f"cannot read: {error.strerror}") from error


def _check_size(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageUnreadable(
            "too_large",
            f"{width}x{height} is {width * height} pixels, over the limit of {MAX_IMAGE_PIXELS}",
        )


def _decode_failure_reason(error: OSError) -> str:
    # Pillow says "image file is truncated" while decoding pixels and "Truncated File Read"
    # when the file ends inside a header: both are a file cut short.
    return "truncated" if "truncated" in str(error).lower() else "corrupt"


def _not_an_image() -> ImageUnreadable:
    return ImageUnreadable("not_an_image", f"not a supported image ({', '.join(IMAGE_FORMATS)})")
