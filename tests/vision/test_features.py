from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from shapes import write_shapes

from modelyard.vision import preprocessing
from modelyard.vision.backbones import Backbone, load_backbone
from modelyard.vision.dataset import content_hash, decode_image, scan_dataset
from modelyard.vision.features import (
    FeatureCache,
    FeatureProgress,
    OnnxFeatureEngine,
    cache_key,
    featurize,
    make_engine,
)

SPEC = preprocessing.default_spec()


@pytest.fixture(scope="module")
def backbone() -> Backbone:
    return load_backbone("resnet18", "none", seed=0)


@pytest.fixture
def images(tmp_path: Path) -> tuple[list[Path], list[str]]:
    records = scan_dataset(write_shapes(tmp_path / "data", per_class=4)).records
    paths = [record.path for record in records]
    return paths, [content_hash(path) for path in paths]


def _run(
    paths: list[Path], hashes: list[str], cache: FeatureCache, backbone: Backbone, **options: object
):  # type: ignore[no-untyped-def]
    built: list[object] = []

    def factory():  # type: ignore[no-untyped-def]
        engine = make_engine("onnxruntime", backbone, cache, 224)
        built.append(engine)
        return engine

    return featurize(paths, hashes, cache, factory, SPEC, **options), built  # type: ignore[arg-type]


def test_a_second_pass_reads_every_feature_from_the_cache(
    tmp_path: Path, images: tuple[list[Path], list[str]], backbone: Backbone
) -> None:
    paths, hashes = images
    cache = FeatureCache(tmp_path / "cache", backbone, SPEC)
    cold, built = _run(paths, hashes, cache, backbone)
    assert (cold.cache_hits, cold.computed, len(built)) == (0, len(paths), 1)
    warm, built_again = _run(paths, hashes, cache, backbone)
    assert (warm.cache_hits, warm.computed, built_again) == (len(paths), 0, [])
    np.testing.assert_array_equal(warm.features, cold.features)
    assert (cache.folder / "key.json").exists()


def test_onnxruntime_features_match_torch(
    tmp_path: Path, images: tuple[list[Path], list[str]], backbone: Backbone
) -> None:
    paths, hashes = images
    cache = FeatureCache(tmp_path / "cache", backbone, SPEC)
    result, _ = _run(paths, hashes, cache, backbone)
    batch = preprocessing.to_batch([decode_image(path) for path in paths])
    with torch.no_grad():
        expected = backbone.network(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(result.features, expected, rtol=1e-3, atol=1e-4)


def test_the_key_changes_with_weights_and_preprocessing(backbone: Backbone) -> None:
    other_weights = load_backbone("resnet18", "none", seed=1)
    assert cache_key(backbone, SPEC) != cache_key(other_weights, SPEC)
    assert cache_key(backbone, SPEC) != cache_key(backbone, {**SPEC, "crop": 192})
    assert cache_key(backbone, SPEC) == cache_key(load_backbone("resnet18", "none", 0), SPEC)


def test_a_damaged_cache_entry_is_computed_again(
    tmp_path: Path, images: tuple[list[Path], list[str]], backbone: Backbone
) -> None:
    paths, hashes = images
    cache = FeatureCache(tmp_path / "cache", backbone, SPEC)
    first, _ = _run(paths, hashes, cache, backbone)
    damaged = cache.folder / hashes[0][:2] / f"{hashes[0]}.f32"
    damaged.write_bytes(b"\0\0")
    second, _ = _run(paths, hashes, cache, backbone)
    assert second.computed == 1
    np.testing.assert_allclose(second.features, first.features, atol=1e-5)


def test_progress_is_reported_batch_by_batch(
    tmp_path: Path, images: tuple[list[Path], list[str]], backbone: Backbone
) -> None:
    paths, hashes = images
    cache = FeatureCache(tmp_path / "cache", backbone, SPEC)
    seen: list[FeatureProgress] = []
    _run(paths, hashes, cache, backbone, batch_size=5, on_progress=seen.append)
    assert [item.done for item in seen] == [5, 10, 12]
    assert seen[-1].total == 12 and seen[-1].images_per_s > 0


def test_the_featurizer_model_is_exported_once_per_key(tmp_path: Path, backbone: Backbone) -> None:
    cache = FeatureCache(tmp_path / "cache", backbone, SPEC)
    OnnxFeatureEngine(backbone, cache.engine_model(), 224)
    stamp = cache.engine_model().stat().st_mtime_ns
    OnnxFeatureEngine(backbone, cache.engine_model(), 224)
    assert cache.engine_model().stat().st_mtime_ns == stamp
