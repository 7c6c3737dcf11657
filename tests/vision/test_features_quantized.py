"""The int8 engine: a quantized copy of the featurizer, calibrated on the data, kept beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shapes import write_shapes

from modelyard.vision import preprocessing
from modelyard.vision.backbones import Backbone, load_backbone
from modelyard.vision.dataset import content_hash, scan_dataset
from modelyard.vision.features import (
    ENGINES,
    FeatureCache,
    OnnxFeatureEngine,
    QuantizedOnnxFeatureEngine,
    calibration_batch,
    featurize,
    make_engine,
    quantized_model_path,
)

SPEC = preprocessing.default_spec()


@pytest.fixture(scope="module")
def backbone() -> Backbone:
    return load_backbone("resnet18", "none", seed=0)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[str]]:
    root = write_shapes(tmp_path_factory.mktemp("data"), per_class=4)
    paths = [record.path for record in scan_dataset(root).records]
    return paths, [content_hash(path) for path in paths]


@pytest.fixture(scope="module")
def fp32_features(
    tmp_path_factory: pytest.TempPathFactory,
    images: tuple[list[Path], list[str]],
    backbone: Backbone,
) -> np.ndarray:
    paths, hashes = images
    cache = FeatureCache(tmp_path_factory.mktemp("fp32"), backbone, SPEC)
    factory = lambda: OnnxFeatureEngine(backbone, cache.engine_model(), 224)  # noqa: E731
    return featurize(paths, hashes, cache, factory, SPEC).features  # type: ignore[no-any-return]


def _cosine(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (left * right).sum(1) / np.linalg.norm(left, axis=1) / np.linalg.norm(right, axis=1)  # type: ignore[no-any-return]


def test_int8_is_a_listed_engine_that_make_engine_builds(
    tmp_path: Path, backbone: Backbone
) -> None:
    assert "onnxruntime-int8" in ENGINES
    cache = FeatureCache(tmp_path / "cache", backbone, SPEC)
    engine = make_engine("onnxruntime-int8", backbone, cache, 224)
    assert isinstance(engine, QuantizedOnnxFeatureEngine)
    # Nothing is quantized before there are images to calibrate on.
    assert engine.session is None and not quantized_model_path(cache.engine_model()).exists()


def test_int8_features_point_the_same_way_as_fp32_ones(
    tmp_path: Path,
    images: tuple[list[Path], list[str]],
    backbone: Backbone,
    fp32_features: np.ndarray,
) -> None:
    paths, hashes = images
    cache = FeatureCache(tmp_path / "cache", backbone, SPEC)
    calibration = calibration_batch(paths, SPEC, count=8)
    factory = lambda: QuantizedOnnxFeatureEngine(  # noqa: E731
        backbone, cache.engine_model(), 224, calibration
    )
    result = featurize(paths, hashes, cache, factory, SPEC)
    assert result.features.shape == fp32_features.shape
    assert not np.array_equal(result.features, fp32_features)  # really quantized
    assert _cosine(result.features, fp32_features).min() > 0.99


def test_the_quantized_model_is_written_once_beside_the_fp32_one(
    tmp_path: Path, images: tuple[list[Path], list[str]], backbone: Backbone
) -> None:
    paths, _ = images
    cache = FeatureCache(tmp_path / "cache", backbone, SPEC)
    batch = preprocessing.to_batch([preprocessing.load_image(path) for path in paths[:4]])
    first = make_engine("onnxruntime-int8", backbone, cache, 224)
    features = first(batch)  # calibrated on this first batch, then run
    quantized = cache.folder / "featurizer.int8.onnx"
    assert quantized.is_file() and cache.engine_model().is_file()
    stamp = quantized.stat().st_mtime_ns
    second = make_engine("onnxruntime-int8", backbone, cache, 224)
    np.testing.assert_array_equal(second(batch), features)
    assert quantized.stat().st_mtime_ns == stamp


def test_calibration_images_are_spread_over_the_data_set(
    images: tuple[list[Path], list[str]],
) -> None:
    paths, _ = images
    batch = calibration_batch(paths, SPEC, count=3)
    assert batch.shape == (3, 3, 224, 224) and batch.dtype == np.float32
    ends = preprocessing.to_batch([preprocessing.load_image(p) for p in (paths[0], paths[-1])])
    np.testing.assert_array_equal(batch[[0, 2]], ends)
    assert calibration_batch(paths[:2], SPEC, count=64).shape[0] == 2
