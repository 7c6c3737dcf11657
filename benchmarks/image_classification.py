"""Image classification: featurization speed, training time beside torchvision, memory.

    .venv/bin/python benchmarks/image_classification.py [--images 1000] [--epochs 3]
        [--skip-speed] [--skip-int8-accuracy] [--skip-training] [--skip-peer] [--skip-rss]

On a generated 10-class set of JPEG photos of shapes (written once under `benchmarks/.cache/`):

(a) featurization images/s for ResNet50 at 224: Modelyard's `featurize()` with its default engine,
    torch eager, plain onnxruntime fp32 (default session options), the int8 engine
    (`onnxruntime-int8`) and, where the CPU has native bf16, torch bf16; beside the float32 GEMM
    ceiling of this machine (measured GFLOP/s ÷ 8.2 GFLOP per ResNet50 image). Then how close the
    int8 features are to fp32 ones (cosine, raw and about the mean feature) and the accuracy of a
    head trained on each, over several splits, on EfficientNet-Lite0 with its ImageNet weights
    and on ResNet50 (random init: no ImageNet weights can be downloaded here);
(b) end-to-end training: Modelyard's whole job (submit + wait, cold feature cache) beside a plain
    torchvision transfer-learning script (`_torchvision_transfer.py`) on the same data, split,
    backbone and epochs;
(c) the same job again with a warm cache, as a fraction of the cold run;
(d) peak RSS of `featurize()` in a fresh process for the data set and for 10,000 images.

A benchmark, not a test: nothing here is asserted, and the machine's noise shows in the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from modelyard.services.workspaces import OpenWorkspace
    from modelyard.vision.backbones import Backbone

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "image-classification"
PEER_SCRIPT = HERE / "_torchvision_transfer.py"
DATA_VERSION = "shapes-v1"
RESNET50_GFLOP = 8.2  # per 224×224 image, multiply-adds counted as two operations
GEMM_SIZE = 3072
SEED = 0
VALIDATION_FRACTION = 0.1  # the job's default: the split both sides of (b) use
ACCURACY_VALIDATION_FRACTION = 0.5  # 0.2 point per image at 1,000 images, to resolve 0.5 point
ACCURACY_EPOCHS = 10
ACCURACY_SPLITS = 8  # paired fp32/int8 heads: one split's difference is mostly its noise
ACCURACY_BACKBONES = ("efficientnet-lite0", "resnet50")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
INT8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")
BATCHES = "batches → features"  # the clock covers the engine on preprocessed batches
FILES = "files → features"  # ...decoding, preprocessing, engine and cache writes

TARGET_INT8_SPEEDUP = 2.0
TARGET_COSINE = 0.999
TARGET_INT8_ACCURACY_POINTS = 0.5
TARGET_TRAINING_RATIO = 0.25
TARGET_ACCURACY_POINTS = 1.0
TARGET_WARM_PERCENT = 5.0
TARGET_RSS_BYTES = 2 * 1024**3


# Arguments --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Image classification: featurization speed, training time, memory."
    )
    add = parser.add_argument
    add("--images", type=int, default=1_000, help="data set size, 10 classes (default: 1000)")
    add("--epochs", type=int, default=3, help="epochs for (b) and (c) (default: 3)")
    add("--speed-backbone", default="resnet50", help="(a) backbone (default: resnet50)")
    add("--speed-images", type=int, default=64, help="(a) images per engine and round")
    add("--rounds", type=int, default=3, help="(a) rounds; the best round counts (default: 3)")
    add("--calibration-images", type=int, default=64, help="int8 calibration sample")
    add(
        "--accuracy-backbone",
        action="append",
        help="int8 accuracy backbone, repeatable (default: efficientnet-lite0 and resnet50)",
    )
    add(
        "--accuracy-splits",
        type=int,
        default=ACCURACY_SPLITS,
        help=f"int8 accuracy: splits (seeds), a head per engine each (default: {ACCURACY_SPLITS})",
    )
    add("--train-backbone", default="efficientnet-lite0", help="(b)/(c) backbone")
    add("--train-weights", default=None, help="(b)/(c) weights (default: imagenet for lite0)")
    add("--peer-batch-size", type=int, default=32, help="torchvision script's batch size")
    add("--peer-learning-rate", type=float, default=0.01, help="torchvision script's head lr")
    add("--peer-workers", type=int, default=2, help="torchvision script's DataLoader workers")
    add("--rss-images", type=int, default=10_000, help="(d) large featurization (0: skip it)")
    add("--rss-backbone", default="mobilenet_v3_large", help="(d) backbone, weights none")
    add("--job-timeout", type=float, default=1800, help="seconds for each Modelyard job")
    add("--peer-timeout", type=float, default=3600, help="seconds for the torchvision script")
    for part in ("speed", "int8-accuracy", "training", "peer", "rss"):
        add(f"--skip-{part}", action="store_true", help=f"skip the {part} part")
    add("--rss-child", nargs=3, metavar=("ROOT", "BACKBONE", "CACHE"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# The data set -----------------------------------------------------------------------------------

SHAPES = ("circle", "square", "triangle", "diamond", "cross")
COLOURS = {"warm": (210, 70, 40), "cool": (40, 110, 200)}
IMAGE_SIZE = (320, 240)


def ensure_dataset(count: int) -> Path:
    """A folder per label (10 labels: 5 shapes × 2 colour families), count // 10 JPEGs each.

    Drawn from a seed per image, so the 1,000-image set is the first tenth of the 10,000 one
    and every run of the benchmark sees the same files. Written once, then reused.
    """
    root = CACHE / f"{DATA_VERSION}-{count}"
    stamp = root / ".complete"
    if stamp.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    note(f"writing {count:,} images into {root} (first run only)")
    per_class = count // (len(SHAPES) * len(COLOURS))
    for colour_index, (colour_name, colour) in enumerate(COLOURS.items()):
        for shape_index, shape in enumerate(SHAPES):
            folder = root / f"{colour_name} {shape}"
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(per_class):
                rng = np.random.default_rng([colour_index, shape_index, index])
                draw_shape(rng, shape, colour).save(folder / f"{index:05d}.jpg", quality=90)
    stamp.write_text(DATA_VERSION)
    return root


def draw_shape(rng: np.random.Generator, shape: str, colour: tuple[int, int, int]) -> Any:
    from PIL import Image, ImageDraw

    width, height = IMAGE_SIZE
    background = rng.integers(60, 150, 3)
    noise = rng.integers(-35, 36, (height, width, 3))
    image = Image.fromarray(np.clip(background + noise, 0, 255).astype(np.uint8), "RGB")
    extent = int(rng.integers(110, 200))
    left, top = int(rng.integers(0, width - extent)), int(rng.integers(0, height - extent))
    fill = tuple(int(np.clip(c + rng.integers(-30, 31), 0, 255)) for c in colour)
    ImageDraw.Draw(image).polygon(outline(shape, left, top, extent), fill=fill)
    return image


def outline(shape: str, left: int, top: int, extent: int) -> list[tuple[float, float]]:
    right, bottom = left + extent, top + extent
    middle_x, middle_y = left + extent / 2, top + extent / 2
    if shape == "circle":
        angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        radius = extent / 2
        return [(middle_x + radius * np.cos(a), middle_y + radius * np.sin(a)) for a in angles]
    if shape == "square":
        return [(left, top), (right, top), (right, bottom), (left, bottom)]
    if shape == "triangle":
        return [(left, bottom), (right, bottom), (middle_x, top)]
    if shape == "diamond":
        return [(middle_x, top), (right, middle_y), (middle_x, bottom), (left, middle_y)]
    arm = max(4, extent // 5)  # a cross: a plus sign as one polygon
    x0, x1, y0, y1 = middle_x - arm, middle_x + arm, middle_y - arm, middle_y + arm
    return [
        (x0, top), (x1, top), (x1, y0), (right, y0), (right, y1), (x1, y1),
        (x1, bottom), (x0, bottom), (x0, y1), (left, y1), (left, y0), (x0, y0),
    ]  # fmt: skip


@dataclass(frozen=True)
class Dataset:
    root: Path
    paths: list[Path]
    hashes: list[str]
    labels: list[str]
    targets: list[int]


def scan(root: Path) -> Dataset:
    from modelyard.vision.dataset import content_hash, scan_dataset

    records = scan_dataset(root).records
    labels = sorted({record.label for record in records})
    paths = [record.path for record in records]
    targets = [labels.index(record.label) for record in records]
    return Dataset(root, paths, [content_hash(path) for path in paths], labels, targets)


# The machine ------------------------------------------------------------------------------------


def cpuinfo_field(name: str) -> str:
    """The first CPU's `name` line of /proc/cpuinfo ("" where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return ""


def cpu_flags() -> set[str]:
    return set(cpuinfo_field("flags").split())


def cpu_model() -> str:
    """The model name, with family and model numbers: a VM's name ("AMD EPYC") often leaves out
    the generation, which decides the int8 and bf16 instructions."""
    name = cpuinfo_field("model name") or platform.processor() or "unknown CPU"
    family, model = cpuinfo_field("cpu family"), cpuinfo_field("model")
    return f"{name} (family {family}, model {model})" if family and model else name


@dataclass(frozen=True)
class Gemm:
    numpy_gflops: float
    torch_gflops: float

    @property
    def best(self) -> float:
        return max(self.numpy_gflops, self.torch_gflops)

    def __or__(self, other: Gemm) -> Gemm:
        """The best of two measurements, library by library."""
        return Gemm(
            max(self.numpy_gflops, other.numpy_gflops), max(self.torch_gflops, other.torch_gflops)
        )


def measure_gemm(size: int = GEMM_SIZE, repeats: int = 2) -> Gemm:
    """float32 matrix multiply GFLOP/s, best of `repeats`, with numpy and with torch."""
    import torch

    rng = np.random.default_rng(SEED)
    left = rng.random((size, size), dtype=np.float32)
    right = rng.random((size, size), dtype=np.float32)
    flop = 2 * size**3
    numpy_seconds = best_seconds(lambda: left @ right, repeats)
    torch_left, torch_right = torch.from_numpy(left), torch.from_numpy(right)
    torch_seconds = best_seconds(lambda: torch_left @ torch_right, repeats)
    return Gemm(flop / numpy_seconds / 1e9, flop / torch_seconds / 1e9)


def best_seconds(work: Callable[[], object], repeats: int) -> float:
    work()  # warm-up: thread pools, page faults
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


# (a) Featurization speed ------------------------------------------------------------------------


@dataclass
class SpeedRow:
    label: str
    what: str  # what the clock covers
    rates: list[float] = field(default_factory=list)  # images/s, one per batch or per round

    @property
    def best(self) -> float:
        return max(self.rates) if self.rates else 0.0

    @property
    def median(self) -> float:
        return float(np.median(self.rates)) if self.rates else 0.0


@dataclass
class SpeedResult:
    gemm: Gemm  # the best of a measurement before the rounds and one in each round
    backbone: str
    images: int
    rows: list[SpeedRow]
    quantize_seconds: float
    cosine_min: float
    cosine_mean: float
    bf16_note: str


def measure_speed(args: argparse.Namespace, data: Dataset, scratch: Path) -> SpeedResult:
    from modelyard.vision import preprocessing
    from modelyard.vision.backbones import load_backbone
    from modelyard.vision.dataset import load_inputs
    from modelyard.vision.features import FeatureCache, calibration_batch

    spec = preprocessing.default_spec()
    crop = int(spec["crop"])
    backbone = load_backbone(args.speed_backbone, "none", SEED)
    fp32_cache = FeatureCache(scratch / "speed-fp32", backbone, spec)
    calibration = calibration_batch(data.paths, spec, args.calibration_images)
    models = prepare_models(backbone, fp32_cache, crop, calibration)
    subset = spread(data, args.speed_images)
    batches = [load_inputs(subset.paths[i:j], spec) for i, j in chunks(len(subset.paths), 32)]
    engines = engine_rows(backbone, models)
    featurize_rows = {
        "onnxruntime": SpeedRow("Modelyard featurize(), default engine", FILES),
        "onnxruntime-int8": SpeedRow("Modelyard featurize(), onnxruntime-int8", FILES),
    }
    features: dict[str, Any] = {}
    for _, engine in engines:
        engine(batches[0])  # warm-up: first-run allocations and kernel selection
    gemm = measure_gemm()
    for round_index in range(args.rounds):
        note(f"(a) round {round_index + 1}/{args.rounds}")
        gemm |= measure_gemm()
        # Batch by batch, the engines in turn: a burst of load from elsewhere on this shared
        # machine then slows one batch of each engine, not all of one engine's batches.
        for batch in batches:
            for row, engine in engines:
                row.rates.append(batch_rate(engine, batch))
        for name, row in featurize_rows.items():
            rate, features[name] = featurize_rate(
                name, backbone, subset, models, scratch, batches[0]
            )
            row.rates.append(rate)
    cosine = cosine_rows(features["onnxruntime-int8"], features["onnxruntime"])
    rows = [*featurize_rows.values(), *(row for row, _ in engines)]
    bf16 = bf16_note()
    return SpeedResult(
        gemm, backbone.name, len(subset.paths), rows, models.quantize_seconds, *cosine, bf16
    )


@dataclass(frozen=True)
class Models:
    fp32: Path
    int8: Path
    quantize_seconds: float


def prepare_models(backbone: Backbone, cache: Any, crop: int, calibration: Any) -> Models:
    from modelyard.vision.features import OnnxFeatureEngine, QuantizedOnnxFeatureEngine

    note(f"(a) exporting {backbone.name} to ONNX and quantizing it to int8")
    OnnxFeatureEngine(backbone, cache.engine_model(), crop)
    started = time.perf_counter()
    quantized = QuantizedOnnxFeatureEngine(backbone, cache.engine_model(), crop, calibration)
    return Models(cache.engine_model(), quantized.model_path, time.perf_counter() - started)


def engine_rows(backbone: Backbone, models: Models) -> list[tuple[SpeedRow, Callable[..., Any]]]:
    import onnxruntime
    import torch

    plain = onnxruntime.InferenceSession(str(models.fp32), providers=["CPUExecutionProvider"])
    int8 = onnxruntime.InferenceSession(str(models.int8), providers=["CPUExecutionProvider"])
    network = backbone.network.eval()

    def torch_eager(batch: Any) -> Any:
        with torch.inference_mode():
            return network(torch.from_numpy(batch)).numpy()

    def torch_bf16(batch: Any) -> Any:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            return network(torch.from_numpy(batch)).float().numpy()

    rows: list[tuple[SpeedRow, Callable[..., Any]]] = [
        (SpeedRow("onnxruntime fp32, default options", BATCHES), session_runner(plain)),
        (SpeedRow("onnxruntime int8 (same int8 model)", BATCHES), session_runner(int8)),
        (SpeedRow("torch eager fp32, inference_mode", BATCHES), torch_eager),
    ]
    if native_bf16():
        rows.append((SpeedRow("torch bf16 autocast", BATCHES), torch_bf16))
    return rows


def session_runner(session: Any) -> Callable[[Any], Any]:
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


def batch_rate(engine: Callable[[Any], Any], batch: Any) -> float:
    started = time.perf_counter()
    engine(batch)
    return len(batch) / (time.perf_counter() - started)


def featurize_rate(
    name: str, backbone: Backbone, data: Dataset, models: Models, scratch: Path, warm_up: Any
) -> tuple[float, Any]:
    """featurize() into an empty cache that already holds the exported models."""
    from modelyard.vision import preprocessing
    from modelyard.vision.features import FeatureCache

    root = Path(tempfile.mkdtemp(dir=scratch, prefix="speed-"))
    cache = FeatureCache(root, backbone, preprocessing.default_spec(), engine=name)
    for model in (models.fp32, models.int8):
        shutil.copyfile(model, cache.folder / model.name)
    rate, features = featurize_with(name, backbone, data, cache, warm_up=warm_up)
    shutil.rmtree(root)
    return rate, features


def featurize_with(
    name: str, backbone: Backbone, data: Dataset, cache: Any, warm_up: Any = None
) -> tuple[float, Any]:
    """featurize() with the named engine: (its images/s, the features).

    The rate is featurize's own, from its last progress report: decoding, preprocessing, the
    engine and cache writes from the first batch to the last, not building the engine (nor,
    given a `warm_up` batch, the engine's first run, which onnxruntime makes slow).
    """
    from modelyard.vision import preprocessing
    from modelyard.vision.features import FeatureProgress, featurize, make_engine

    spec = preprocessing.default_spec()
    engine = make_engine(name, backbone, cache, int(spec["crop"]))
    if warm_up is not None:
        engine(warm_up)
    reports: list[FeatureProgress] = []
    result = featurize(
        data.paths, data.hashes, cache, lambda: engine, spec, on_progress=reports.append
    )
    return reports[-1].images_per_s, result.features


def cosine_rows(left: Any, right: Any) -> tuple[float, float]:
    similarity = (left * right).sum(1) / (
        np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1)
    )
    return float(similarity.min()), float(similarity.mean())


def native_bf16() -> bool:
    return any(flag in cpu_flags() for flag in BF16_FLAGS)


def bf16_note() -> str:
    if native_bf16():
        return "native bf16 present: torch bf16 autocast measured"
    return (
        f"no native bf16 on this CPU (none of {', '.join(BF16_FLAGS)} in its flags): bf16 would"
        " be emulated, so it was not measured"
    )


def spread(data: Dataset, count: int) -> Dataset:
    """`count` images spread evenly over the data set (every label gets its share)."""
    positions = np.unique(np.linspace(0, len(data.paths) - 1, count).round().astype(int))
    pick = [int(position) for position in positions]
    return Dataset(
        data.root,
        [data.paths[i] for i in pick],
        [data.hashes[i] for i in pick],
        data.labels,
        [data.targets[i] for i in pick],
    )


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, size):
        yield start, min(start + size, total)


# (a) int8 accuracy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccuracyResult:
    label: str
    fp32_rate: float
    int8_rate: float
    cosine: tuple[float, float]  # min, mean over the images
    # The same about the fp32 features' mean: the part of a feature that tells images apart.
    # Features that are nearly the same for every image (random-init ResNet50) keep a raw
    # cosine near 1 whatever int8 does to that part.
    centered_cosine: tuple[float, float]
    fp32_spread: float  # mean cosine between two images' fp32 features (1: all alike)
    fp32_accuracies: list[float]  # one per split, paired with int8_accuracies
    int8_accuracies: list[float]
    train_images: int
    validation_images: int

    @property
    def deltas(self) -> Any:
        """int8 − fp32 head accuracy per split, in points."""
        return 100 * (np.asarray(self.int8_accuracies) - np.asarray(self.fp32_accuracies))

    @property
    def delta_standard_error(self) -> float:
        deltas = self.deltas
        return float(deltas.std(ddof=1) / np.sqrt(len(deltas))) if len(deltas) > 1 else 0.0


def measure_int8_accuracy(
    data: Dataset, backbone: Backbone, label: str, scratch: Path, args: argparse.Namespace
) -> AccuracyResult:
    """fp32 and int8 features of the whole set, and the heads each one trains."""
    from modelyard.vision import preprocessing
    from modelyard.vision.features import (
        INT8_ENGINE,
        FeatureCache,
        QuantizedOnnxFeatureEngine,
        calibration_batch,
    )

    spec = preprocessing.default_spec()
    note(f"(a) int8 accuracy: featurizing {len(data.paths):,} images with {label}, fp32 and int8")
    fp32_cache = FeatureCache(Path(tempfile.mkdtemp(dir=scratch)), backbone, spec)
    fp32_rate, fp32 = featurize_with("onnxruntime", backbone, data, fp32_cache)
    int8_cache = FeatureCache(Path(tempfile.mkdtemp(dir=scratch)), backbone, spec, INT8_ENGINE)
    shutil.copyfile(fp32_cache.engine_model(), int8_cache.engine_model())
    calibration = calibration_batch(data.paths, spec, args.calibration_images)
    QuantizedOnnxFeatureEngine(backbone, int8_cache.engine_model(), int(spec["crop"]), calibration)
    int8_rate, int8 = featurize_with("onnxruntime-int8", backbone, data, int8_cache)
    note(f"(a) int8 accuracy: {args.accuracy_splits} splits × 2 heads on {label}")
    fp32_accuracies, int8_accuracies = head_accuracies(data, fp32, int8, args.accuracy_splits)
    mean = fp32.mean(axis=0)
    return AccuracyResult(
        label,
        fp32_rate,
        int8_rate,
        cosine_rows(int8, fp32),
        cosine_rows(int8 - mean, fp32 - mean),
        mean_pairwise_cosine(fp32),
        fp32_accuracies,
        int8_accuracies,
        *split_sizes(data),
    )


def mean_pairwise_cosine(features: Any) -> float:
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    return float((unit @ unit.T).mean())


def split_sizes(data: Dataset) -> tuple[int, int]:
    from modelyard.vision.training import stratified_split

    split = stratified_split(data.targets, ACCURACY_VALIDATION_FRACTION, SEED)
    return len(split.train), len(split.validation)


def head_accuracies(
    data: Dataset, fp32: Any, int8: Any, splits: int
) -> tuple[list[float], list[float]]:
    """Best validation accuracy of a head on each kind of features, split by split: the same
    split and seed for both, so each pair differs only by the features."""
    from modelyard.vision.config import ImageClassificationConfig
    from modelyard.vision.training import stratified_split, train_head

    targets = np.asarray(data.targets)
    accuracies: tuple[list[float], list[float]] = ([], [])
    for seed in range(SEED, SEED + splits):
        split = stratified_split(data.targets, ACCURACY_VALIDATION_FRACTION, seed)
        config = ImageClassificationConfig(data=str(data.root), epochs=ACCURACY_EPOCHS, seed=seed)
        for features, into in zip((fp32, int8), accuracies, strict=True):
            result = train_head(
                features[split.train],
                targets[split.train],
                features[split.validation],
                targets[split.validation],
                len(data.labels),
                config,
            )
            into.append(result.best_validation_accuracy)
    return accuracies


# (b) and (c) Training time ----------------------------------------------------------------------


@dataclass(frozen=True)
class JobResult:
    label: str
    seconds: float
    status: str
    best_accuracy: float
    featurize_seconds: float
    cache_hits: int
    phases: list[tuple[str, float]]


@dataclass(frozen=True)
class PeerResult:
    seconds: float
    setup_seconds: float
    epoch_seconds: list[float]
    best_accuracy: float
    final_accuracy: float


def train_weights(args: argparse.Namespace) -> str:
    if args.train_weights:
        return str(args.train_weights)
    return "imagenet" if args.train_backbone == "efficientnet-lite0" else "none"


def measure_jobs(args: argparse.Namespace, data: Dataset, scratch: Path) -> list[JobResult]:
    """The whole job twice in one fresh workspace: cold cache, then warm."""
    from modelyard.services.workspaces import create_workspace
    from modelyard.vision.config import ImageClassificationConfig

    config = ImageClassificationConfig(
        data=str(data.root),
        backbone=args.train_backbone,
        weights=train_weights(args),
        epochs=args.epochs,
        validation_fraction=VALIDATION_FRACTION,
        seed=SEED,
    )
    ws = create_workspace("bench-ws", path=scratch / "ws")
    try:
        return [
            run_job(ws, config, label, args.job_timeout)
            for label in ("Modelyard job, cold cache", "Modelyard job, warm cache")
        ]
    finally:
        ws.close()


def run_job(ws: OpenWorkspace, config: Any, label: str, timeout_s: float) -> JobResult:
    from modelyard.services import jobs, training

    note(f"(b) {label}: {config.backbone}, {config.epochs} epochs")
    submitted = time.time()
    started = time.perf_counter()
    run = training.submit_image_classification(ws, "bench", config)
    final = jobs.wait_for_completion(ws, run.id, timeout_s=timeout_s)
    seconds = time.perf_counter() - started
    metrics = ws.store.get_run_data(run.id).latest_metrics
    return JobResult(
        label,
        seconds,
        final.status.value,
        metrics.get("best_validation_accuracy", float("nan")),
        metrics.get("featurize_seconds", float("nan")),
        int(metrics.get("feature_cache_hits", 0)),
        job_phases(ws, final, submitted, submitted + seconds),
    )


def job_phases(
    ws: OpenWorkspace, run: Any, submitted: float, done: float
) -> list[tuple[str, float]]:
    """Where the job's time went, from the timestamps of the metrics it logs as it goes."""
    history = ws.store.get_metric_history(run.id)
    last = {metric.name: metric.timestamp for metric in history}
    if run.started_at is None or "featurize_seconds" not in last:
        return []
    featurize_seconds = next(m.value for m in history if m.name == "featurize_seconds")
    marks = [
        ("submit, queue, start", epoch_seconds(run.started_at)),
        ("imports, guardrails, split, backbone", last["featurize_seconds"] - featurize_seconds),
        ("featurize", last["featurize_seconds"]),
        ("head training", last.get("best_validation_accuracy", 0.0)),
        ("ONNX export and parity", last.get("onnx_max_abs_diff", 0.0)),
        ("evaluation", last.get("accuracy", 0.0)),
        ("starter code, run once", last.get("starter_score_max_abs_diff", 0.0)),
        ("publish, exit", epoch_seconds(run.ended_at) if run.ended_at else done),
        ("noticed by wait_for_completion", done),
    ]
    phases, previous = [], submitted
    for name, moment in marks:
        if moment:
            phases.append((name, max(0.0, moment - previous)))
            previous = moment
    return phases


def epoch_seconds(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def measure_peer(args: argparse.Namespace, data: Dataset, scratch: Path) -> PeerResult:
    """The torchvision script in a fresh interpreter, on the split the job makes."""
    from modelyard.vision.training import stratified_split

    split = stratified_split(data.targets, VALIDATION_FRACTION, SEED)
    split_file = scratch / "split.json"
    split_file.write_text(
        json.dumps(
            {
                "root": str(data.root),
                "labels": data.labels,
                "train": [str(data.paths[i]) for i in split.train],
                "validation": [str(data.paths[i]) for i in split.validation],
            }
        )
    )
    command = [
        sys.executable,
        str(PEER_SCRIPT),
        f"--split={split_file}",
        f"--backbone={args.train_backbone}",
        f"--weights={train_weights(args)}",
        f"--epochs={args.epochs}",
        f"--batch-size={args.peer_batch_size}",
        f"--learning-rate={args.peer_learning_rate}",
        f"--workers={args.peer_workers}",
        f"--seed={SEED}",
    ]
    note(f"(b) torchvision script: {args.train_backbone}, {args.epochs} epochs")
    started = time.perf_counter()
    result = run_json(command, args.peer_timeout, "the torchvision script")
    return PeerResult(
        time.perf_counter() - started,
        float(result["setup_seconds"]),
        [float(epoch["seconds"]) for epoch in result["epochs"]],
        float(result["best_validation_accuracy"]),
        float(result["final_validation_accuracy"]),
    )


class MeasurementFailed(Exception):
    """A subprocess of the benchmark failed; its message is printed in place of its results."""


def run_json(command: list[str], timeout_s: float, what: str) -> dict[str, Any]:
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MeasurementFailed(f"{what} timed out after {timeout_s:.0f} s") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise MeasurementFailed(f"{what} exited with {done.returncode}:\n{tail(done.stderr)}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def tail(text: str, lines: int = 15) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:])


# (d) Peak RSS -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RssResult:
    images: int
    backbone: str
    peak_bytes: int
    before_bytes: int  # after imports and building the engine, before the first image
    seconds: float
    images_per_s: float


def measure_rss(root: Path, backbone: str, scratch: Path, timeout_s: float) -> RssResult:
    cache = Path(tempfile.mkdtemp(dir=scratch, prefix="rss-"))
    command = [sys.executable, str(Path(__file__).resolve()), "--rss-child", str(root), backbone]
    note(f"(d) featurizing {root.name} with {backbone} in a fresh process")
    result = run_json([*command, str(cache)], timeout_s, "the featurize process")
    shutil.rmtree(cache, ignore_errors=True)
    return RssResult(
        int(result["images"]),
        backbone,
        int(result["peak_bytes"]),
        int(result["before_bytes"]),
        float(result["seconds"]),
        float(result["images_per_s"]),
    )


def rss_child(root: Path, backbone_name: str, cache_root: Path) -> None:
    """Run in the fresh process: featurize the whole folder, print one JSON line."""
    from modelyard.vision import preprocessing
    from modelyard.vision.backbones import load_backbone
    from modelyard.vision.dataset import content_hash, scan_dataset
    from modelyard.vision.features import FeatureCache, default_engine, featurize, make_engine

    spec = preprocessing.default_spec()
    backbone = load_backbone(backbone_name, "none", SEED)
    paths = [record.path for record in scan_dataset(root).records]
    hashes = [content_hash(path) for path in paths]
    cache = FeatureCache(cache_root, backbone, spec)
    engine = make_engine(default_engine(), backbone, cache, int(spec["crop"]))
    before = peak_rss_bytes()
    result = featurize(paths, hashes, cache, lambda: engine, spec)
    print(
        json.dumps(
            {
                "images": len(paths),
                "peak_bytes": peak_rss_bytes(),
                "before_bytes": before,
                "seconds": result.seconds,
                "images_per_s": result.images_per_s,
            }
        )
    )


def peak_rss_bytes() -> int:
    """This process's peak RSS: VmHWM where Linux has it.

    Not ru_maxrss: Linux carries it across fork and exec, so a child started by a parent that
    holds 3 GB reports at least 3 GB, whatever it uses itself.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            line = next((line for line in status if line.startswith("VmHWM:")), "")
        return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


# Report -----------------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def print_header(args: argparse.Namespace, gemm: Gemm | None) -> None:
    import onnxruntime
    import torch

    flags = cpu_flags()
    present = [flag for flag in ("avx2", "avx512f", *INT8_FLAGS, *BF16_FLAGS) if flag in flags]
    print("Image classification benchmark")
    print(
        f"{cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.machine()};"
        f" flags: {', '.join(present) or 'none of interest'}"
    )
    print(
        f"python {platform.python_version()}, torch {torch.__version__},"
        f" onnxruntime {onnxruntime.__version__}, numpy {np.__version__}"
    )
    print(f"data: {args.images:,} generated JPEGs (320×240), 10 classes, under {CACHE}")
    if gemm:
        print(
            f"float32 GEMM ({GEMM_SIZE}², best of all measurements): numpy"
            f" {gemm.numpy_gflops:.0f} GFLOP/s, torch {gemm.torch_gflops:.0f} GFLOP/s → ResNet50"
            " ceiling"
            f" {gemm.best / RESNET50_GFLOP:.1f} images/s at {RESNET50_GFLOP} GFLOP per image"
        )


def print_speed(speed: SpeedResult) -> list[str]:
    gemm = speed.gemm
    ceiling = gemm.best / RESNET50_GFLOP if speed.backbone == "resnet50" else 0.0
    plain = next(row for row in speed.rows if row.label.startswith("onnxruntime fp32"))
    int8 = next(row for row in speed.rows if row.label.startswith("onnxruntime int8"))
    print(
        f"\n(a) Featurization, {speed.backbone} (random init, seed {SEED}), 224×224, batch 32,"
        f" {speed.images} images per engine and round; best and median of the batches"
        " (files → features: of the rounds)"
    )
    print(
        f"{'engine':<41}{'clock covers':<19}{'best img/s':>11}{'÷ plain':>9}"
        f"{'of ceiling':>11}{'median':>8}{'÷ plain':>9}"
    )
    for row in speed.rows:
        share = f"{row.best / ceiling:.0%}" if ceiling else "–"
        print(
            f"{row.label:<41}{row.what:<19}{row.best:>11.1f}{row.best / plain.best:>8.2f}×"
            f"{share:>11}{row.median:>8.1f}{row.median / plain.median:>8.2f}×"
        )
    paired = float(np.median(np.asarray(int8.rates) / np.asarray(plain.rates)))
    print(
        f"int8 ÷ plain fp32, batch by batch (each pair run back to back): median {paired:.2f}×"
        f" over {len(plain.rates)} batches"
    )
    print(
        f"int8 model: static QDQ, per-channel int8 weights, uint8 activations; quantized in"
        f" {speed.quantize_seconds:.1f} s (once per cache key), calibrated on the data's images"
    )
    print(
        f"int8 vs fp32 features ({speed.images} images): cosine min {speed.cosine_min:.5f},"
        f" mean {speed.cosine_mean:.5f}"
    )
    print(f"bf16: {speed.bf16_note}")
    return [
        f"int8 ≥ {TARGET_INT8_SPEEDUP:.0f}× plain onnxruntime fp32 ({speed.backbone}, engines on"
        f" the same batches): {verdict(paired >= TARGET_INT8_SPEEDUP)} (median of pairs"
        f" {paired:.2f}×, best {int8.best / plain.best:.2f}×)",
        f"int8 features cosine ≥ {TARGET_COSINE} ({speed.backbone}, min over images):"
        f" {verdict(speed.cosine_min >= TARGET_COSINE)} ({speed.cosine_min:.5f})",
    ]


def print_accuracy(results: list[AccuracyResult]) -> list[str]:
    first = results[0]
    print(
        f"\n(a) int8 accuracy: the whole set featurized by each engine; over"
        f" {len(first.deltas)} splits (seeds {SEED}–{SEED + len(first.deltas) - 1}), a head on"
        f" each engine's features, {ACCURACY_EPOCHS} epochs, {first.train_images} training /"
        f" {first.validation_images} validation images (one image: "
        f"{100 / first.validation_images:.1f} point)"
    )
    print(
        f"{'backbone':<38}{'fp32 img/s':>11}{'int8 img/s':>11}{'cos min · mean':>17}"
        f"{'centred min · mean':>21}{'fp32 alike':>11}{'fp32 acc':>10}{'int8 acc':>10}"
        f"{'Δ points ± se':>15}{'Δ range':>14}"
    )
    verdicts = []
    for result in results:
        deltas, error = result.deltas, result.delta_standard_error
        print(
            f"{result.label:<38}{result.fp32_rate:>11.1f}{result.int8_rate:>11.1f}"
            f"{result.cosine[0]:>9.4f} · {result.cosine[1]:.4f}"
            f"{result.centered_cosine[0]:>13.4f} · {result.centered_cosine[1]:.4f}"
            f"{result.fp32_spread:>11.4f}{np.mean(result.fp32_accuracies):>10.1%}"
            f"{np.mean(result.int8_accuracies):>10.1%}{deltas.mean():>+9.2f} ± {error:.2f}"
            f"{deltas.min():>+7.1f} – {deltas.max():+.1f}"
        )
        verdicts += [
            f"int8 head accuracy no more than {TARGET_INT8_ACCURACY_POINTS} point below fp32"
            f" ({result.label}, mean of {len(deltas)} splits):"
            f" {verdict(deltas.mean() >= -TARGET_INT8_ACCURACY_POINTS)}"
            f" ({deltas.mean():+.2f} ± {error:.2f})",
            f"int8 features cosine ≥ {TARGET_COSINE} ({result.label}, min):"
            f" {verdict(result.cosine[0] >= TARGET_COSINE)} ({result.cosine[0]:.4f})",
        ]
    print(
        "centred: cosine of the features less the fp32 mean feature, the part that tells images"
        " apart; fp32 alike: mean cosine between two images' fp32 features (1: all the same)"
    )
    return verdicts


def print_training(
    args: argparse.Namespace, jobs: list[JobResult], peer: PeerResult | None, images: int
) -> list[str]:
    cold, warm = jobs
    print(
        f"\n(b)/(c) Training, {args.train_backbone} ({train_weights(args)}), {args.epochs} epochs,"
        f" {images:,} images, 10 % validation (same split both sides)"
    )
    print(f"{'pipeline':<40}{'seconds':>9}{'÷ torchvision':>15}{'best val acc':>14}")
    rows: list[tuple[str, float, float]] = [
        (job.label, job.seconds, job.best_accuracy) for job in jobs
    ]
    if peer:
        rows.append(("torchvision script (no cache)", peer.seconds, peer.best_accuracy))
    for label, seconds, accuracy in rows:
        ratio = f"{seconds / peer.seconds:.3f}×" if peer else ""
        print(f"{label:<40}{seconds:>9.1f}{ratio:>15}{accuracy:>14.1%}")
    for job in jobs:
        print(
            f"{job.label}: {job.status}; featurize {job.featurize_seconds:.1f} s,"
            f" {job.cache_hits} cache hits; "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in job.phases)
        )
    warm_percent = 100 * warm.seconds / cold.seconds
    verdicts = [
        f"warm retrain ≤ {TARGET_WARM_PERCENT:.0f} % of cold: "
        f"{verdict(warm_percent <= TARGET_WARM_PERCENT)} ({warm_percent:.0f} %)"
    ]
    if peer:
        print(
            f"torchvision script: setup {peer.setup_seconds:.1f} s (imports, model), epochs "
            + " · ".join(f"{s:.1f}" for s in peer.epoch_seconds)
            + f" s; final-epoch validation accuracy {peer.final_accuracy:.1%}"
        )
        verdicts += training_verdicts(cold, peer)
    return verdicts


def training_verdicts(cold: JobResult, peer: PeerResult) -> list[str]:
    ratio = cold.seconds / peer.seconds
    points = 100 * (cold.best_accuracy - peer.best_accuracy)
    per_epoch = sum(peer.epoch_seconds) / len(peer.epoch_seconds)
    # Epochs at which the ratio would reach the target, if the peer's epochs cost the same.
    break_even = (cold.seconds / TARGET_TRAINING_RATIO - peer.setup_seconds) / per_epoch
    return [
        f"cold job ≤ {TARGET_TRAINING_RATIO}× torchvision script: "
        f"{verdict(ratio <= TARGET_TRAINING_RATIO)} ({ratio:.3f}×; the target is reached from"
        f" about {max(break_even, 1):.1f} epochs at these costs)",
        f"accuracy no more than {TARGET_ACCURACY_POINTS:.0f} point below the script's:"
        f" {verdict(points >= -TARGET_ACCURACY_POINTS)} ({points:+.1f} points)",
    ]


def print_rss(results: list[RssResult]) -> list[str]:
    print("\n(d) Peak RSS of featurize() in a fresh process (default engine, cold cache)")
    print(
        f"{'images':>8}  {'backbone':<22}{'peak RSS':>11}{'before':>11}{'seconds':>9}{'img/s':>8}"
    )
    for result in results:
        print(
            f"{result.images:>8,}  {result.backbone:<22}{result.peak_bytes / 2**20:>7,.0f} MiB"
            f"{result.before_bytes / 2**20:>7,.0f} MiB{result.seconds:>9.1f}"
            f"{result.images_per_s:>8.1f}"
        )
    largest = max(results, key=lambda result: result.images)
    return [
        f"peak RSS ≤ 2 GB at {largest.images:,} images:"
        f" {verdict(largest.peak_bytes <= TARGET_RSS_BYTES)}"
        f" ({largest.peak_bytes / 2**30:.2f} GiB)"
    ]


# Main -------------------------------------------------------------------------------------------


@dataclass
class Results:
    speed: SpeedResult | None = None
    accuracy: list[AccuracyResult] = field(default_factory=list)
    jobs: list[JobResult] = field(default_factory=list)
    peer: PeerResult | None = None
    rss: list[RssResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def measure_all(args: argparse.Namespace, data: Dataset, scratch: Path) -> Results:
    results = Results()
    if not args.skip_speed:
        results.speed = measure_speed(args, data, scratch)
    if not args.skip_int8_accuracy:
        results.accuracy = measure_accuracies(args, data, scratch)
    if not args.skip_training:
        results.jobs = measure_jobs(args, data, scratch)
        results.failures += [
            f"{job.label}: {job.status}" for job in results.jobs if job.status != "Completed"
        ]
        if not args.skip_peer:
            results.peer = attempt(lambda: measure_peer(args, data, scratch), results.failures)
    if not args.skip_rss:
        results.rss = measure_rsses(args, data, scratch, results.failures)
    return results


def measure_accuracies(
    args: argparse.Namespace, data: Dataset, scratch: Path
) -> list[AccuracyResult]:
    results = []
    for name in args.accuracy_backbone or ACCURACY_BACKBONES:
        backbone, label = accuracy_backbone(name)
        results.append(measure_int8_accuracy(data, backbone, label, scratch, args))
    return results


def accuracy_backbone(name: str) -> tuple[Backbone, str]:
    """The backbone with its ImageNet weights where they can be had (a package, or a file in the
    torch cache), else with random init: int8's accuracy is only telling on trained weights."""
    from modelyard.vision.backbones import WeightsUnavailable, load_backbone

    try:
        return load_backbone(name, "imagenet", SEED), f"{name}, ImageNet weights"
    except WeightsUnavailable:
        note(f"(a) int8 accuracy: no ImageNet weights for {name} here; measuring random init")
        return load_backbone(name, "none", SEED), f"{name}, random init"


def measure_rsses(
    args: argparse.Namespace, data: Dataset, scratch: Path, failures: list[str]
) -> list[RssResult]:
    roots = [data.root]
    if args.rss_images and args.rss_images != args.images:
        roots.append(ensure_dataset(args.rss_images))
    measured = [
        attempt(partial(measure_rss, root, args.rss_backbone, scratch, 3600), failures)
        for root in roots
    ]
    return [result for result in measured if result is not None]


def attempt(measure: Callable[[], Any], failures: list[str]) -> Any:
    try:
        return measure()
    except MeasurementFailed as error:
        failures.append(str(error))
        return None


def report(args: argparse.Namespace, results: Results) -> None:
    print_header(args, results.speed.gemm if results.speed else None)
    verdicts: list[str] = []
    if results.speed:
        verdicts += print_speed(results.speed)
    if results.accuracy:
        verdicts += print_accuracy(results.accuracy)
    if len(results.jobs) == 2:
        verdicts += print_training(args, results.jobs, results.peer, args.images)
    if results.rss:
        verdicts += print_rss(results.rss)
    print("\nTargets")
    for line in verdicts:
        print(f"  {line}")
    for failure in results.failures:
        print(f"\nNot measured: {failure}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rss_child:
        root, backbone, cache = args.rss_child
        rss_child(Path(root), backbone, Path(cache))
        return 0
    with tempfile.TemporaryDirectory(prefix="modelyard-bench-") as tmp:
        scratch = Path(tmp)
        # Before any workspace exists: the user's registry of workspaces is left alone.
        os.environ["MODELYARD_HOME"] = str(scratch / "modelyard-home")
        data = scan(ensure_dataset(args.images))
        results = measure_all(args, data, scratch)
    report(args, results)
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
