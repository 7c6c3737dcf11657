"""The bottleneck: each image turned into a feature vector once, cached, reused by later runs.

The cache lives in the workspace (`cache/features/<key>/`), one small file per image named by
the image's content hash. The key names everything that changes a feature: backbone, weights,
preprocessing and, for the int8 engine, its quantization recipe (fp32 engines, onnxruntime and
torch, agree to ~1e-5 and share one key). So a second run on the same images, however they are
named or labelled, reads its features instead of computing them, and a changed image is simply
a new entry.

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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch

from modelyard.fileio import exclusive_lock, write_bytes_atomic, write_json_atomic
from modelyard.vision.backbones import Backbone
from modelyard.vision.dataset import load_inputs

FEATURE_FORMAT: Final = 1
FEATURIZE_BATCH: Final = 32
_DECODE_WORKERS: Final = 2
INT8_ENGINE: Final = "onnxruntime-int8"
ENGINES: Final = ("onnxruntime", "torch", INT8_ENGINE)
QUANTIZED_SUFFIX: Final = ".int8.onnx"
CALIBRATION_IMAGES: Final = 64
_CALIBRATION_BATCH: Final = 8


@dataclass(frozen=True)
class Int8Recipe:
    """How the int8 engine quantizes. It is part of the cache key, so a new recipe means new
    features rather than a mix of old and new ones.

    Chosen by measurement on ResNet50 (cosine to fp32 features; speed with and without VNNI):
    the alternatives named below were no faster and no closer to fp32; quantizing only some
    operator types, or keeping removable activations, was slower.
    """

    format: str = "QDQ"  # onnxruntime fuses it into QLinearConv: as fast as QOperator
    per_channel: bool = True  # per-tensor weights: cosine 0.9995 against 0.9997
    # Full-range weights: reduce_range costs accuracy (cosine 0.9992), even on AVX2 without
    # VNNI where onnxruntime warns that u8×s8 products may saturate.
    reduce_range: bool = False
    # Asymmetric uint8: ReLU outputs use all 256 levels (ActivationSymmetric: cosine 0.998
    # on AVX2, and 1.2–1.5× slower).
    activations: str = "QUInt8"
    # Symmetric int8, zero point 0: onnxruntime's fastest convolutions need it (u8u8 and s8s8
    # run at 1.1–1.5× fp32 instead of 1.9–3.4×).
    weights: str = "QInt8"
    calibration: str = "MinMax"  # Percentile: cosine 0.9996; Entropy: the same ranges here


INT8_RECIPE: Final = Int8Recipe()


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


def cache_key(backbone: Backbone, spec: dict[str, Any], engine: str = "onnxruntime") -> str:
    payload = {
        "backbone": backbone.name,
        "weights": backbone.weights_id,
        "preprocessing": spec,
        "format": FEATURE_FORMAT,
    }
    quantization = engine_quantization(engine)
    if quantization is not None:
        # Only engines whose features differ from fp32 ones are named, so that fp32 keys, and
        # the caches already filled under them, stay what they were.
        payload["quantization"] = quantization
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def engine_quantization(engine: str) -> dict[str, Any] | None:
    """The recipe by which `engine` quantizes the featurizer, or None for fp32 features."""
    if engine not in ENGINES:
        raise ValueError(f"unknown featurization engine {engine!r}: expected one of {ENGINES}")
    return asdict(INT8_RECIPE) if engine == INT8_ENGINE else None


class FeatureCache:
    """Feature vectors by image content hash, for one backbone + weights + preprocessing + the
    kind of features the engine makes (fp32, or int8 by a given recipe)."""

    def __init__(
        self, root: Path, backbone: Backbone, spec: dict[str, Any], engine: str = "onnxruntime"
    ) -> None:
        self.key = cache_key(backbone, spec, engine)
        self.folder = root / self.key
        self.dim = backbone.feature_dim
        self.spec = spec
        self.quantization = engine_quantization(engine)
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
            if self.quantization is not None:
                description["quantization"] = self.quantization
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
        if not model_path.exists():
            export_onnx(backbone.network, model_path, crop, output_name="features")
        self.session = _session(model_path, _onnx_providers())
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: Any) -> Any:
        return self.session.run(None, {self.input_name: batch})[0]


class QuantizedOnnxFeatureEngine:
    """The fp32 featurizer quantized to int8 by onnxruntime and run like OnnxFeatureEngine.

    Static quantization by INT8_RECIPE: weights int8 per output channel, activations uint8 per
    tensor, their ranges calibrated on `calibration`, preprocessed images of the data itself
    (`calibration_batch` picks a spread of a data set's images). The result is written once
    beside the fp32 model (`featurizer.int8.onnx`) and reused by every later engine for the same
    folder, which then needs no calibration, so one image always gets the same features there,
    whatever data set it came in with.

    Opt-in, not the default: its quality could not be measured where it matters here (ResNet50
    with ImageNet weights). EfficientNet-Lite0 keeps its head accuracy but not its features
    (cosine 0.90: per-channel int8 weights of its first depthwise convolution alone cost most of
    that); random-init ResNet50 keeps the cosine but its nearly identical features lose ~3
    points of head accuracy. On AVX2 CPUs without integer dot-product instructions (VNNI) it is
    under 2× fp32 for ResNet50. See benchmarks/README.md. Its features differ from fp32 ones,
    so it needs a FeatureCache of its own: `FeatureCache(..., engine="onnxruntime-int8")`.
    """

    def __init__(
        self, backbone: Backbone, model_path: Path, crop: int, calibration: Any | None = None
    ) -> None:
        self.model_path = quantized_model_path(model_path)
        # One quantization per folder even when two jobs start at once: a second model,
        # calibrated on other images, would give an image other features in the same cache.
        with exclusive_lock(model_path.with_name(".quantize.lock")):
            if not self.model_path.exists():
                _quantize_beside(backbone, model_path, crop, calibration)
        self.session = _session(self.model_path, ["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: Any) -> Any:
        return self.session.run(None, {self.input_name: batch})[0]


def _quantize_beside(backbone: Backbone, fp32_path: Path, crop: int, calibration: Any) -> None:
    quantized = quantized_model_path(fp32_path)
    if calibration is None:
        raise ValueError(
            f"no int8 featurizer at {quantized} yet and no calibration images to quantize one with"
        )
    if not fp32_path.exists():
        export_onnx(backbone.network, fp32_path, crop, output_name="features")
    quantize_onnx(fp32_path, quantized, calibration)


def _session(model_path: Path, providers: list[str]) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # ENABLE_ALL, not EXTENDED: its layout pass runs int8 convolutions channels-last, without
    # which the int8 ResNet50 is 1.1–1.4× slower.
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = os.cpu_count() or 1
    return onnxruntime.InferenceSession(str(model_path), options, providers=providers)


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
    """Write the fp32 model at `fp32_path` as a static int8 model at `path` by INT8_RECIPE,
    calibrated on the preprocessed images `calibration` [N, 3, crop, crop], atomically."""
    from onnxruntime.quantization import quantize_static
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
            **_quantize_static_options(INT8_RECIPE),
        )
        write_bytes_atomic(path, quantized.read_bytes())


def _quantize_static_options(recipe: Int8Recipe) -> dict[str, Any]:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType

    return {
        "quant_format": QuantFormat[recipe.format],
        "per_channel": recipe.per_channel,
        "reduce_range": recipe.reduce_range,
        "activation_type": QuantType[recipe.activations],
        "weight_type": QuantType[recipe.weights],
        "calibrate_method": CalibrationMethod[recipe.calibration],
    }


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
    name: str,
    backbone: Backbone,
    cache: FeatureCache,
    crop: int,
    calibration_paths: Sequence[Path] = (),
) -> Callable[[Any], Any]:
    """The named engine, writing into `cache`, which must hold that engine's kind of features.

    The int8 engine quantizes the featurizer the first time, calibrated on CALIBRATION_IMAGES
    of `calibration_paths` (the data to featurize, or its training part); later engines for
    the same cache reuse that model and need no paths.
    """
    _check_cache_matches(name, cache)
    if name == "onnxruntime":
        return OnnxFeatureEngine(backbone, cache.engine_model(), crop)
    if name == INT8_ENGINE:
        calibration = _calibration_if_needed(cache, calibration_paths)
        return QuantizedOnnxFeatureEngine(backbone, cache.engine_model(), crop, calibration)
    return TorchFeatureEngine(backbone)


def _check_cache_matches(engine: str, cache: FeatureCache) -> None:
    # An int8 engine writing into an fp32 cache (or the reverse) would serve its features to
    # every later run of the other kind.
    if engine_quantization(engine) != cache.quantization:
        made_for = "int8" if cache.quantization is not None else "fp32"
        raise ValueError(
            f"feature cache {cache.key} holds {made_for} features, not {engine}'s:"
            f" open it with FeatureCache(..., engine={engine!r})"
        )


def _calibration_if_needed(cache: FeatureCache, paths: Sequence[Path]) -> Any | None:
    if quantized_model_path(cache.engine_model()).exists():
        return None
    if not paths:
        raise ValueError(f"{INT8_ENGINE} needs calibration images: pass calibration_paths")
    return calibration_batch(paths, cache.spec)


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
