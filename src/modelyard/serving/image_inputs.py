"""What a request to the no-code image scorer may carry, as the images' bytes.

- raw image bytes: `Content-Type: image/*` or `application/octet-stream` → one answer;
- `multipart/form-data` with one file → one answer, with several → a list, in order;
- JSON `{"ImageSource": "<base64>"}` → one answer; a list of them, or `{"data": [...]}`, → a
  list (an item may also be the base64 string itself, or a `data:image/...;base64,` URI).

Every refusal is an InvalidValue (or UnsupportedMediaType) whose message says what to send.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Final

from modelyard.errors import InvalidValue, UnsupportedMediaType

RAW_TYPES: Final = ("image/", "application/octet-stream")
HOW_TO_SEND: Final = (
    "send image bytes (Content-Type image/*), a multipart file, or JSON "
    '{"ImageSource": "<base64>"} (a list of them, or {"data": [...]}, for a batch)'
)


@dataclass(frozen=True)
class ImageRequest:
    """The images of one request, and whether the answer is a list (a batch) or one output."""

    images: list[bytes]
    is_batch: bool


def read_image_request(content_type: str | None, body: bytes) -> ImageRequest:
    if not body:
        raise InvalidValue(f"the request body is empty; fix: {HOW_TO_SEND}")
    media_type = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    if media_type.startswith(RAW_TYPES):
        return ImageRequest([body], is_batch=False)
    if media_type == "application/json" or media_type.endswith("+json"):
        return _from_json(body)
    if media_type == "multipart/form-data":
        return _from_multipart(content_type or "", body)
    raise UnsupportedMediaType(
        f"Content-Type {media_type!r} is not accepted; fix: {HOW_TO_SEND}", media_type=media_type
    )


def _from_json(body: bytes) -> ImageRequest:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidValue(f"the body is not valid JSON ({error}); fix: {HOW_TO_SEND}") from error
    if isinstance(document, dict) and "ImageSource" in document:
        return ImageRequest([_image_bytes(document, 0)], is_batch=False)
    items = document.get("data") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise InvalidValue(f"the JSON holds no ImageSource; fix: {HOW_TO_SEND}")
    if not items:
        raise InvalidValue(f"the batch holds no images; fix: {HOW_TO_SEND}")
    return ImageRequest([_image_bytes(item, index) for index, item in enumerate(items)], True)


def _image_bytes(item: Any, index: int) -> bytes:
    source = item.get("ImageSource") if isinstance(item, dict) else item
    if not isinstance(source, str):
        raise InvalidValue(
            f"item {index}: ImageSource must be a base64 string, not {type(source).__name__}; "
            f"fix: {HOW_TO_SEND}",
            index=index,
        )
    if source.startswith("data:") and "," in source:
        source = source.split(",", 1)[1]  # a data URI, as a browser's FileReader gives it
    try:
        return base64.b64decode(source, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidValue(
            f"item {index}: ImageSource is not valid base64 ({error}); fix: {HOW_TO_SEND}",
            index=index,
        ) from error


def _from_multipart(content_type: str, body: bytes) -> ImageRequest:
    # The standard library's MIME parser reads form data exactly (binary parts included), so a
    # replica needs no multipart package.
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    parts = list(message.iter_parts()) if isinstance(message, EmailMessage) else []
    images = [_part_bytes(part) for part in parts]
    if not images:
        raise InvalidValue(f"the multipart body holds no file; fix: {HOW_TO_SEND}")
    return ImageRequest(images, is_batch=len(images) > 1)


def _part_bytes(part: Any) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""
