"""The int8 engine: a quantized featurizer, calibrated on the data, with a cache of its own."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from shapes import write_shapes

from modelyard.vision import features, preprocessing
from modelyard.vision.backbones import Backbone, load_backbone
from modelyard.vision.dataset import content_hash, scan_dataset
from modelyard.vision.features import (
    ENGINES,
    FEATURE_FORMAT,
    INT8_ENGINE,
    INT8_RECIPE,
    FeatureCache,
    OnnxFeatureEngine,
    QuantizedOnnxFeatureEngine,
    cache_key,
    calibration_batch,
    featurize,
    make_engine,
    quantized_model_path,
)

SPEC = preprocessing.default_spec()
Images = tuple[list[Path], list[str]]


@pytest.fixture(scope="module")
def backbone() -> Backbone:
    return load_backbone("resnet18", "none", seed=0)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    root = write_shapes(tmp_path_factory.mktemp("data"), per_class=4)
    paths = [record.path for record in scan_dataset(root).records]
    return paths, [content_hash(path) for path in paths]


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache root for the module, holding the fp32 and the int8 caches side by side."""
    return tmp_path_factory.mktemp("caches")


@pytest.fixture(scope="module")
def fp32_features(caches: Path, images: Images, backbone: Backbone) -> np.ndarray:
    return _featurize("onnxruntime", caches, images, backbone)


@pytest.fixture(scope="module")
def int8_features(caches: Path, images: Images, backbone: Backbone) -> np.ndarray:
    """int8 features, quantized by make_engine with the data's own images as calibration."""
    return _featurize(INT8_ENGINE, caches, images, backbone)


def _featurize(engine: str, root: Path, images: Images, backbone: Backbone) -> np.ndarray:
    paths, hashes = images
    cache = FeatureCache(root, backbone, SPEC, engine=engine)
    factory = lambda: make_engine(engine, backbone, cache, 224, calibration_paths=paths)  # noqa: E731
    return featurize(paths, hashes, cache, factory, SPEC).features  # type: ignore[no-any-return]


def _cosine(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (left * right).sum(1) / np.linalg.norm(left, axis=1) / np.linalg.norm(right, axis=1)  # type: ignore[no-any-return]


def test_int8_features_have_a_cache_key_of_their_own(backbone: Backbone) -> None:
    assert INT8_ENGINE in ENGINES
    fp32 = cache_key(backbone, SPEC)
    assert cache_key(backbone, SPEC, "onnxruntime") == cache_key(backbone, SPEC, "torch") == fp32
    assert cache_key(backbone, SPEC, INT8_ENGINE) != fp32
    with pytest.raises(ValueError, match="unknown featurization engine 'int4'"):
        cache_key(backbone, SPEC, "int4")


def test_the_fp32_key_is_unchanged_so_existing_caches_stay_valid(backbone: Backbone) -> None:
    before_int8_had_a_key = {
        "backbone": backbone.name,
        "weights": backbone.weights_id,
        "preprocessing": SPEC,
        "format": FEATURE_FORMAT,
    }
    digest = hashlib.sha256(json.dumps(before_int8_had_a_key, sort_keys=True).encode())
    assert cache_key(backbone, SPEC) == digest.hexdigest()[:24]


def test_int8_and_fp32_features_live_side_by_side_never_mixed(
    caches: Path,
    images: Images,
    backbone: Backbone,
    fp32_features: np.ndarray,
    int8_features: np.ndarray,
) -> None:
    _, hashes = images
    int8_cache = FeatureCache(caches, backbone, SPEC, engine=INT8_ENGINE)
    fp32_cache = FeatureCache(caches, backbone, SPEC, engine="torch")
    assert fp32_cache.folder != int8_cache.folder
    for index, image_hash in enumerate(hashes):
        np.testing.assert_array_equal(fp32_cache.get(image_hash), fp32_features[index])
        np.testing.assert_array_equal(int8_cache.get(image_hash), int8_features[index])
    about = json.loads((int8_cache.folder / "key.json").read_text())
    assert about["quantization"] == asdict(INT8_RECIPE)
    assert "quantization" not in json.loads((fp32_cache.folder / "key.json").read_text())


def test_make_engine_refuses_a_cache_of_the_other_kind(tmp_path: Path, backbone: Backbone) -> None:
    fp32_cache = FeatureCache(tmp_path, backbone, SPEC)
    int8_cache = FeatureCache(tmp_path, backbone, SPEC, engine=INT8_ENGINE)
    with pytest.raises(ValueError, match="holds fp32 features, not onnxruntime-int8's"):
        make_engine(INT8_ENGINE, backbone, fp32_cache, 224, calibration_paths=[Path("x.png")])
    with pytest.raises(ValueError, match="holds int8 features, not onnxruntime's"):
        make_engine("onnxruntime", backbone, int8_cache, 224)
    assert not fp32_cache.engine_model().exists() and not int8_cache.engine_model().exists()


def test_make_engine_calibrates_the_quantizer_on_a_spread_of_the_data(
    tmp_path: Path, images: Images, backbone: Backbone, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, _ = images
    seen: list[Any] = []
    quantize = features.quantize_onnx

    def spy(fp32_path: Path, path: Path, calibration: Any) -> None:
        seen.append(calibration)
        quantize(fp32_path, path, calibration)

    monkeypatch.setattr(features, "quantize_onnx", spy)
    cache = FeatureCache(tmp_path, backbone, SPEC, engine=INT8_ENGINE)
    make_engine(INT8_ENGINE, backbone, cache, 224, calibration_paths=paths)
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], calibration_batch(paths, SPEC))
    assert len(seen[0]) == len(paths)  # fewer than CALIBRATION_IMAGES here: all of them


def test_two_engines_starting_at_once_quantize_once(
    tmp_path: Path, images: Images, backbone: Backbone, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    quantize = features.quantize_onnx

    def counted(fp32_path: Path, path: Path, calibration: Any) -> None:
        calls.append(path)
        quantize(fp32_path, path, calibration)

    monkeypatch.setattr(features, "quantize_onnx", counted)
    cache = FeatureCache(tmp_path, backbone, SPEC, engine=INT8_ENGINE)
    OnnxFeatureEngine(backbone, cache.engine_model(), 224)  # the fp32 export, made once
    calibration = calibration_batch(images[0], SPEC, count=4)
    start = lambda: QuantizedOnnxFeatureEngine(  # noqa: E731
        backbone, cache.engine_model(), 224, calibration
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        engines = [future.result() for future in [pool.submit(start), pool.submit(start)]]
    assert len(calls) == 1
    np.testing.assert_array_equal(engines[0](calibration), engines[1](calibration))


def test_int8_needs_calibration_images_only_until_its_model_exists(
    caches: Path, images: Images, backbone: Backbone, int8_features: np.ndarray, tmp_path: Path
) -> None:
    empty = FeatureCache(tmp_path, backbone, SPEC, engine=INT8_ENGINE)
    with pytest.raises(ValueError, match="needs calibration images"):
        make_engine(INT8_ENGINE, backbone, empty, 224)
    assert not quantized_model_path(empty.engine_model()).exists()

    cache = FeatureCache(caches, backbone, SPEC, engine=INT8_ENGINE)
    quantized = quantized_model_path(cache.engine_model())
    stamp = quantized.stat().st_mtime_ns
    engine = make_engine(INT8_ENGINE, backbone, cache, 224)  # the model written before
    batch = calibration_batch(images[0], SPEC, count=4)
    np.testing.assert_allclose(engine(batch), int8_features[[0, 4, 7, 11]], rtol=0, atol=1e-6)
    assert quantized.stat().st_mtime_ns == stamp


def test_the_engine_without_a_model_or_calibration_says_so(
    tmp_path: Path, backbone: Backbone
) -> None:
    with pytest.raises(ValueError, match=r"no int8 featurizer at .* and no calibration images"):
        QuantizedOnnxFeatureEngine(backbone, tmp_path / "featurizer.onnx", 224)


def test_int8_features_point_the_same_way_as_fp32_ones(
    fp32_features: np.ndarray, int8_features: np.ndarray
) -> None:
    assert int8_features.shape == fp32_features.shape
    assert not np.array_equal(int8_features, fp32_features)  # really quantized
    assert _cosine(int8_features, fp32_features).min() > 0.999


def test_the_quantized_model_follows_the_recipe(
    caches: Path, backbone: Backbone, int8_features: np.ndarray
) -> None:
    cache = FeatureCache(caches, backbone, SPEC, engine=INT8_ENGINE)
    graph = onnx.load(str(quantized_model_path(cache.engine_model()))).graph
    constants = {item.name: numpy_helper.to_array(item) for item in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}
    convolutions = [node for node in graph.node if node.op_type == "Conv"]
    assert INT8_RECIPE.format == "QDQ" and convolutions  # QDQ: float Conv between Q/DQ pairs
    assert not any(node.op_type.startswith("QLinear") for node in graph.node)
    for conv in convolutions:
        activation, weight = (producers[name] for name in conv.input[:2])
        assert activation.op_type == weight.op_type == "DequantizeLinear"
        _assert_weights_follow_the_recipe(weight, constants)
        assert constants[activation.input[2]].dtype == np.uint8  # INT8_RECIPE.activations


def _assert_weights_follow_the_recipe(dequantize: Any, constants: dict[str, Any]) -> None:
    values, scales, zero_points = (constants[name] for name in dequantize.input)
    assert INT8_RECIPE.weights == "QInt8" and values.dtype == np.int8
    assert INT8_RECIPE.per_channel and scales.shape == (values.shape[0],)
    assert not zero_points.any()  # symmetric: onnxruntime's fast int8 convolutions need it
    if not INT8_RECIPE.reduce_range:
        assert np.abs(values).max() == 127  # the full range, not reduce_range's 7 bits


def test_calibration_images_are_spread_over_the_data_set(images: Images) -> None:
    paths, _ = images
    batch = calibration_batch(paths, SPEC, count=3)
    assert batch.shape == (3, 3, 224, 224) and batch.dtype == np.float32
    ends = preprocessing.to_batch([preprocessing.load_image(p) for p in (paths[0], paths[-1])])
    np.testing.assert_array_equal(batch[[0, 2]], ends)
    assert calibration_batch(paths[:2], SPEC, count=64).shape[0] == 2
