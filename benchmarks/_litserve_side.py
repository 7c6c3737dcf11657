"""The same ONNX image classifier behind LitServe, with LitServe's own adaptive batching.

Run by `serving.py` with the python of `benchmarks/.cache/litserve-venv` (LitServe, onnxruntime,
Pillow, NumPy; never Modelyard's `.venv`):

    python _litserve_side.py MODEL.onnx PORT MAX_BATCH BATCH_TIMEOUT_S

Requests are JSON, `{"image": "<the image file, base64>"}`: LitServe reads JSON or forms, not raw
bytes, and a form's uploaded file cannot cross to its worker process (it pickles each request;
an `UploadFile` fails with "Pickling an AuthenticationString object is disallowed").
Preprocessing is Model Builder's, as the replica does it: shorter side to 256 (bilinear), centre
crop 224, ImageNet mean and std.
"""

# No `from __future__ import annotations`: LitServe compares decode_request's annotation with
# fastapi's Request class, and a string annotation would make it hand over the raw request.
import base64
import io
import sys
from typing import Any

import litserve as ls
import numpy as np
import onnxruntime
from fastapi import Request
from PIL import Image

RESIZE, CROP = 256, 224
MEAN = np.asarray((0.485, 0.456, 0.406), dtype=np.float32)
STD = np.asarray((0.229, 0.224, 0.225), dtype=np.float32)
LABELS = [f"class {i}" for i in range(5)]


def to_input(data: bytes) -> Any:
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    scale = RESIZE / min(width, height)
    image = image.resize(
        (max(RESIZE, round(width * scale)), max(RESIZE, round(height * scale))),
        Image.Resampling.BILINEAR,
    )
    left, top = (image.width - CROP) // 2, (image.height - CROP) // 2
    image = image.crop((left, top, left + CROP, top + CROP))
    pixels = np.asarray(image, dtype=np.float32) / np.float32(255)
    return np.ascontiguousarray(((pixels - MEAN) / STD).transpose(2, 0, 1))


class ImageClassifier(ls.LitAPI):
    def setup(self, device: str) -> None:
        self.session = onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def decode_request(self, request: Request) -> Any:
        # Annotated `Request` so that LitServe parses the JSON body; what arrives is that dict.
        return to_input(base64.b64decode(request["image"]))  # type: ignore[index]

    def batch(self, inputs: list[Any]) -> Any:
        return np.stack(inputs)

    def predict(self, batch: Any) -> Any:
        logits = self.session.run(None, {self.input_name: batch})[0]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def unbatch(self, output: Any) -> list[Any]:
        return list(output)

    def encode_response(self, output: Any) -> dict[str, Any]:
        scores = {label: float(score) for label, score in zip(LABELS, output, strict=True)}
        return {"Prediction": LABELS[int(np.argmax(output))], "Score": scores}


if __name__ == "__main__":
    _, _, port, max_batch, timeout_s = sys.argv
    api = ImageClassifier(max_batch_size=int(max_batch), batch_timeout=float(timeout_s))
    server = ls.LitServer(api, accelerator="cpu", workers_per_device=1)
    server.run(host="127.0.0.1", port=int(port), generate_client_file=False)
