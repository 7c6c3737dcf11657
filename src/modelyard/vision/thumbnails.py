"""Small copies of the misclassified validation images, saved beside misclassified.json.

The evaluation lists each mistake's source, a path on the machine that trained: the portal (on
another machine, or after the data set moved) cannot show it. So the evaluation saves a bounded
number of them, the most confident mistakes first, as small JPEG thumbnails in its own folder;
they travel with the run's outputs as artifacts, and misclassified.json names each one by its
path relative to itself.

An image that cannot be read any more (deleted since the guardrails ran) gets no thumbnail: the
evaluation is still written, the entry's thumbnail is null.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from modelyard.fileio import write_bytes_atomic

THUMBNAIL_FOLDER: Final = "misclassified"
THUMBNAILS_MAX: Final = 200  # the confusion matrix's cells show a few each; 200 is ~1-2 MB
THUMBNAIL_PX: Final = 160  # the longer side
_JPEG_QUALITY: Final = 85


def write_thumbnails(
    sources: Sequence[tuple[int, str | None]], folder: Path, limit: int = THUMBNAILS_MAX
) -> dict[int, str]:
    """Thumbnails of the first `limit` (index, source) pairs, written as
    `folder/misclassified/<index>.jpg`; returns index → path relative to `folder`.

    Any thumbnails of an earlier evaluation in that folder are removed first."""
    target = folder / THUMBNAIL_FOLDER
    shutil.rmtree(target, ignore_errors=True)
    written: dict[int, str] = {}
    for index, source in sources[:limit]:
        data = _thumbnail_jpeg(source)
        if data is None:
            continue
        target.mkdir(parents=True, exist_ok=True)
        name = f"{index}.jpg"
        # Not fsynced one by one: they become durable with the rest of the outputs.
        write_bytes_atomic(target / name, data, durable=False)
        written[index] = f"{THUMBNAIL_FOLDER}/{name}"
    return written


def _thumbnail_jpeg(source: str | None) -> bytes | None:
    if source is None:
        return None
    try:
        with Image.open(source) as image:
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            return _jpeg_bytes(upright.convert("RGB"))
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None


def _jpeg_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    return buffer.getvalue()
