"""The bottleneck: each image turned into a feature vector once, cached, reused by later runs.

The cache lives in the workspace (`cache/features/<key>/`), one small file per image named by
the image's content hash. The key names everything that changes a feature: backbone, weights,
preprocessing. So a second run on the same images, however they are named or labelled, reads
its features instead of computing them, and a changed image is simply a new entry.

Featurization streams: images are decoded and preprocessed in a small thread pool while the
engine runs the previous batch, and only one batch of pixels is in memory at a time. The engine
is onnxruntime (about 2.6× faster than torch eager for ResNet50 on these CPUs); `torch` remains
for comparison and for CUDA machines without onnxruntime-gpu. `onnxruntime-int8` runs the same
model quantized to int8; it is opt-in (see QuantizedOnnxFeatureEngine for why).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch

from modelyard.fileio import write_bytes_atomic, write_json_atomic
from modelyard.vision.backbones import Backbone
from modelyard.vision.dataset import load_inputs

FEATURE_FORMAT: Final = 1
FEATURIZE_BATCH: Final = 32
_DECODE_WORKERS: Final = 2
ENGINES: Final = ("onnxruntime", "torch", "onnxruntime-int8")
QUANTIZED_SUFFIX: Final = ".int8.onnx"
CALIBRATION_IMAGES: Final = 64
_CALIBRATION_BATCH: Final = 8


@dataclass(frozen=True)
class FeatureProgress:
    done: int
    total: int
    computed: int
    images_per_s: float


@dataclass(frozen=True)
class FeatureResult:
    features: Any  # float32 array [N, feature_dim], rows in the order given
    cache_hits: int
    computed: int
    seconds: float

    @property
    def images_per_s(self) -> float:
        return self.computed / self.seconds if self.computed and self.seconds > 0 else 0.0


def cache_key(backbone: Backbone, spec: dict[str, Any]) -> str:
    payload = {
        "backbone": backbone.name,
        "weights": backbone.weights_id,
        "preprocessing": spec,
        "format": FEATURE_FORMAT,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


class FeatureCache:
    """Feature vectors by image content hash, for one backbone + weights + preprocessing."""

    def __init__(self, root: Path, backbone: Backbone, spec: dict[str, Any]) -> None:
        self.key = cache_key(backbone, spec)
        self.folder = root / self.key
        self.dim = backbone.feature_dim
        self._describe(backbone, spec)

    def _describe(self, backbone: Backbone, spec: dict[str, Any]) -> None:
        about = self.folder / "key.json"
        if not about.exists():
            description = {
                "backbone": backbone.name,
                "weights": backbone.weights_id,
                "feature_dim": backbone.feature_dim,
                "preprocessing": spec,
                "format": FEATURE_FORMAT,
            }
            write_json_atomic(about, description)

    def _path(self, image_hash: str) -> Path:
        return self.folder / image_hash[:2] / f"{image_hash}.f32"

    def get(self, image_hash: str) -> Any | None:
        """The cached vector, or None when absent or unreadable (then it is computed again)."""
        path = self._path(image_hash)
        try:
            vector = np.fromfile(path, dtype=np.float32)
        except (FileNotFoundError, ValueError, OSError):
            return None
        return vector if vector.shape == (self.dim,) and np.isfinite(vector).all() else None

    def put(self, image_hash: str, vector: Any) -> None:
        data = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
        write_bytes_atomic(self._path(image_hash), data, durable=False)

    def engine_model(self) -> Path:
        return self.folder / "featurizer.onnx"


class OnnxFeatureEngine:
    """The backbone exported once to ONNX (kept beside the cache) and run by onnxruntime."""

    def __init__(self, backbone: Backbone, model_path: Path, crop: int) -> None:
        import onnxruntime

        if not model_path.exists():
            export_onnx(backbone.network, model_path, crop, output_name="features")
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = onnxruntime.InferenceSession(
            str(model_path), options, providers=_onnx_providers()
        )
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: Any) -> Any:
        return self.session.run(None, {self.input_name: batch})[0]


class QuantizedOnnxFeatureEngine:
    """The fp32 featurizer quantized to int8 by onnxruntime and run like OnnxFeatureEngine.

    Static quantization in QDQ format: weights int8 per output channel, activations uint8 per
    tensor, their ranges (min/max) calibrated on preprocessed images of the data itself, namely
    `calibration` when given (`calibration_batch` picks a spread of a data set's images), else
    the first batch the engine is asked to featurize. The result is written once beside the
    fp32 model (`featurizer.int8.onnx`) and reused by every later engine for the same folder,
    so one image always gets the same features there, whatever data set it came in with.

    Opt-in, not the default: int8 features are close to fp32 for ResNets but not for
    depthwise-convolution networks (EfficientNet-Lite0: cosine similarity well below 0.999),
    and on AVX2 CPUs without integer dot-product instructions (VNNI) it is 1.8× fp32 for
    ResNet50; see benchmarks/README.md. Its features differ from fp32 ones, so it needs a
    FeatureCache of its own: the cache key does not name the engine.
    """

    def __init__(
        self, backbone: Backbone, model_path: Path, crop: int, calibration: Any | None = None
    ) -> None:
        self.fp32_path = model_path
        self.model_path = quantized_model_path(model_path)
        self.backbone = backbone
        self.crop = crop
        self.session: Any = None
        self.input_name = ""
        if self.model_path.exists() or calibration is not None:
            self._open(calibration)

    def __call__(self, batch: Any) -> Any:
        if self.session is None:
            self._open(batch)
        return self.session.run(None, {self.input_name: batch})[0]

    def _open(self, calibration: Any) -> None:
        import onnxruntime

        if not self.model_path.exists():
            if not self.fp32_path.exists():
                export_onnx(self.backbone.network, self.fp32_path, self.crop, "features")
            quantize_onnx(self.fp32_path, self.model_path, calibration)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = onnxruntime.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name


def quantized_model_path(model_path: Path) -> Path:
    """`featurizer.onnx` → `featurizer.int8.onnx`, in the same folder."""
    return model_path.with_name(model_path.stem + QUANTIZED_SUFFIX)


def calibration_batch(
    paths: Sequence[Path], spec: dict[str, Any], count: int = CALIBRATION_IMAGES
) -> Any:
    """`count` preprocessed images spread evenly over `paths`, so each label gets its share."""
    positions = np.unique(np.linspace(0, len(paths) - 1, min(count, len(paths))).round())
    return _load_batch(paths, [int(position) for position in positions], spec)


def quantize_onnx(fp32_path: Path, path: Path, calibration: Any) -> None:
    """Write the fp32 model at `fp32_path` as a static int8 QDQ model at `path`, atomically."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".quantize-") as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quantized = Path(scratch) / path.name
        # Shape inference and graph fusions first (batch norms folded into convolutions), as
        # onnxruntime recommends: fewer, larger quantized operators.
        quant_pre_process(str(fp32_path), str(prepared))
        quantize_static(
            str(prepared),
            str(quantized),
            _calibration_reader(_input_name(prepared), calibration),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            # Full-range weights: on ResNet50 closer to fp32 than reduce_range (cosine 0.9998
            # against 0.9994 on AVX2 without VNNI, where onnxruntime warns it may saturate).
            reduce_range=False,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        write_bytes_atomic(path, quantized.read_bytes())


def _input_name(model: Path) -> str:
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    initializers = {initializer.name for initializer in graph.initializer}
    return str(next(item.name for item in graph.input if item.name not in initializers))


def _calibration_reader(input_name: str, calibration: Any) -> Any:
    from onnxruntime.quantization import CalibrationDataReader

    class Batches(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            pixels = np.asarray(calibration, dtype=np.float32)
            self.batches = iter(
                [
                    {input_name: pixels[start : start + _CALIBRATION_BATCH]}
                    for start in range(0, len(pixels), _CALIBRATION_BATCH)
                ]
            )

        def get_next(self) -> dict[str, Any] | None:
            return next(self.batches, None)

    return Batches()


class TorchFeatureEngine:
    def __init__(self, backbone: Backbone) -> None:
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.network = backbone.network.to(self.device).eval()

    def __call__(self, batch: Any) -> Any:
        with torch.inference_mode():
            inputs = torch.from_numpy(batch).to(self.device)
            return self.network(inputs).float().cpu().numpy()


def default_engine() -> str:
    """onnxruntime, unless a CUDA GPU is here that only torch can use (no onnxruntime-gpu)."""
    if torch.cuda.is_available() and "CUDAExecutionProvider" not in _onnx_providers():
        return "torch"
    return "onnxruntime"


def make_engine(
    name: str, backbone: Backbone, cache: FeatureCache, crop: int
) -> Callable[[Any], Any]:
    if name == "onnxruntime":
        return OnnxFeatureEngine(backbone, cache.engine_model(), crop)
    if name == "onnxruntime-int8":
        return QuantizedOnnxFeatureEngine(backbone, cache.engine_model(), crop)
    return TorchFeatureEngine(backbone)


def _onnx_providers() -> list[str]:
    import onnxruntime

    available = onnxruntime.get_available_providers()
    preferred = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return [provider for provider in preferred if provider in available]


def export_onnx(network: torch.nn.Module, path: Path, crop: int, output_name: str) -> None:
    """Write `network` as ONNX with input `input1` [N,3,crop,crop], dynamic batch, atomically."""
    network = network.cpu().eval()
    dummy = torch.zeros(1, 3, crop, crop)
    path.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as scratch,
        warnings.catch_warnings(),
    ):
        # The legacy exporter is chosen on purpose (no onnxscript, one self-contained file);
        # its deprecation and constant-folding notes are not the user's business.
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        temp_path = Path(scratch) / path.name
        torch.onnx.export(
            network,
            (dummy,),
            str(temp_path),
            input_names=["input1"],
            output_names=[output_name],
            dynamic_axes={"input1": {0: "batch"}, output_name: {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        write_bytes_atomic(path, temp_path.read_bytes())


def featurize(
    paths: Sequence[Path],
    hashes: Sequence[str],
    cache: FeatureCache,
    engine_factory: Callable[[], Callable[[Any], Any]],
    spec: dict[str, Any],
    batch_size: int = FEATURIZE_BATCH,
    on_progress: Callable[[FeatureProgress], None] | None = None,
) -> FeatureResult:
    """Features for every image, from the cache where present; the engine is built lazily."""
    started = time.perf_counter()
    features = np.zeros((len(paths), cache.dim), dtype=np.float32)
    missing = _fill_from_cache(features, hashes, cache)
    hits = len(paths) - len(missing)
    done = hits
    if missing:
        engine = engine_factory()
        compute_started = time.perf_counter()
        for indices, batch in _prefetched_batches(paths, missing, spec, batch_size):
            vectors = engine(batch)
            for index, vector in zip(indices, vectors, strict=True):
                features[index] = vector
                cache.put(hashes[index], vector)
            done += len(indices)
            if on_progress is not None:
                elapsed = time.perf_counter() - compute_started
                rate = (done - hits) / elapsed if elapsed > 0 else 0.0
                on_progress(FeatureProgress(done, len(paths), done - hits, rate))
    elif on_progress is not None:
        on_progress(FeatureProgress(len(paths), len(paths), 0, 0.0))
    return FeatureResult(features, hits, len(missing), time.perf_counter() - started)


def _fill_from_cache(features: Any, hashes: Sequence[str], cache: FeatureCache) -> list[int]:
    missing = []
    for index, image_hash in enumerate(hashes):
        vector = cache.get(image_hash)
        if vector is None:
            missing.append(index)
        else:
            features[index] = vector
    return missing


def _prefetched_batches(
    paths: Sequence[Path], indices: list[int], spec: dict[str, Any], batch_size: int
) -> Iterator[tuple[list[int], Any]]:
    """Batches of preprocessed pixels; the next batch decodes while the caller runs this one."""
    chunks = [indices[start : start + batch_size] for start in range(0, len(indices), batch_size)]
    with ThreadPoolExecutor(max_workers=_DECODE_WORKERS) as pool:
        pending: Future[Any] | None = None
        for position, chunk in enumerate(chunks):
            current = pending or pool.submit(_load_batch, paths, chunk, spec)
            pending = None
            if position + 1 < len(chunks):
                pending = pool.submit(_load_batch, paths, chunks[position + 1], spec)
            yield chunk, current.result()


def _load_batch(paths: Sequence[Path], chunk: list[int], spec: dict[str, Any]) -> Any:
    return load_inputs([paths[index] for index in chunk], spec)
