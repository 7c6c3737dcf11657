"""What the image scorer reads from a request body, and how it refuses what it cannot use."""

from __future__ import annotations

import base64

import httpx
import pytest

from modelyard.errors import InvalidValue, UnsupportedMediaType
from modelyard.serving.image_inputs import read_image_request

IMAGE = b"\x89PNG\r\n\x1a\n not decoded here"
ENCODED = base64.b64encode(IMAGE).decode()


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "application/octet-stream"])
def test_raw_bytes_are_one_image(content_type: str) -> None:
    request = read_image_request(content_type, IMAGE)
    assert request.images == [IMAGE] and not request.is_batch


def test_no_content_type_reads_as_raw_bytes() -> None:
    assert read_image_request(None, IMAGE).images == [IMAGE]


@pytest.mark.parametrize(
    ("body", "count", "is_batch"),
    [
        (f'{{"ImageSource": "{ENCODED}"}}', 1, False),
        (f'[{{"ImageSource": "{ENCODED}"}}, "{ENCODED}"]', 2, True),
        (f'{{"data": [{{"ImageSource": "{ENCODED}"}}]}}', 1, True),
        (f'{{"ImageSource": "data:image/png;base64,{ENCODED}"}}', 1, False),
    ],
)
def test_json_forms(body: str, count: int, is_batch: bool) -> None:
    request = read_image_request("application/json; charset=utf-8", body.encode())
    assert request.images == [IMAGE] * count and request.is_batch is is_batch


def test_multipart_parts_keep_their_bytes_and_order() -> None:
    other = bytes(range(256)) * 4 + b"\r\n--boundary-lookalike\r\n"
    form = httpx.Request(
        "POST", "http://replica/score",
        files=[("a", ("a.png", IMAGE, "image/png")), ("b", ("b.bin", other, "image/png"))],
    )  # fmt: skip
    request = read_image_request(form.headers["content-type"], form.read())
    assert request.images == [IMAGE, other] and request.is_batch


@pytest.mark.parametrize(
    ("content_type", "body", "error", "words"),
    [
        ("image/png", b"", InvalidValue, "body is empty"),
        ("application/json", b"\xff\xfe", InvalidValue, "not valid JSON"),
        ("application/json", b'{"ImageSource": 5}', InvalidValue, "item 0: ImageSource must be"),
        ("application/json", b'["ok", "%%%"]', InvalidValue, "item 0: ImageSource is not valid"),
        ("application/json", b"42", InvalidValue, "holds no ImageSource"),
        ("multipart/form-data; boundary=x", b"no parts here", InvalidValue, "holds no file"),
        ("text/csv", b"a,b", UnsupportedMediaType, "'text/csv' is not accepted"),
    ],
)
def test_refusals_say_what_to_send(
    content_type: str, body: bytes, error: type[InvalidValue], words: str
) -> None:
    with pytest.raises(error) as raised:
        read_image_request(content_type, body)
    assert words in raised.value.message and "fix: send image bytes" in raised.value.message
