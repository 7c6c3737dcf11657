from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from shapes import write_shapes

from modelyard.vision.backbones import load_backbone
from modelyard.vision.config import ImageClassificationConfig
from modelyard.vision.dataset import scan_dataset
from modelyard.vision.training import (
    CHECKPOINT_FILE,
    EarlyStopping,
    FineTuneData,
    fine_tune,
    learning_rate_at,
    stratified_split,
    train_head,
)


def test_split_is_stratified_seeded_and_keeps_every_class_in_training() -> None:
    labels = [0] * 50 + [1] * 20 + [2] * 2
    split = stratified_split(labels, 0.1, seed=3)
    assert Counter(labels[i] for i in split.validation) == {0: 5, 1: 2, 2: 1}
    assert Counter(labels[i] for i in split.train) == {0: 45, 1: 18, 2: 1}
    assert sorted(split.train + split.validation) == list(range(len(labels)))
    assert stratified_split(labels, 0.1, seed=3) == split
    assert stratified_split(labels, 0.1, seed=4) != split


def test_learning_rate_decays_like_ml_net() -> None:
    config = ImageClassificationConfig(data="d")
    rates = [learning_rate_at(config, epoch) for epoch in range(5)]
    assert rates == pytest.approx([0.01, 0.01, 0.0094, 0.0094, 0.01 * 0.94**2])


def test_early_stopping_waits_for_an_improvement_of_min_delta() -> None:
    stopping = EarlyStopping(patience=2, min_delta=0.01)
    assert stopping.improved(1, 0.50, loss=0.9)
    assert stopping.improved(2, 0.505, loss=0.8)  # a better model, but not a real improvement
    assert not stopping.should_stop
    assert stopping.improved(3, 0.505, loss=0.7)  # the same accuracy at a lower loss is better
    assert stopping.should_stop
    assert not stopping.improved(4, 0.50, loss=0.1)
    assert stopping.best_epoch == 3


def _separable(seed: int, count: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 3
    centres = rng.normal(0, 5, (3, 16))
    features = centres[labels] + rng.normal(0, 1, (count, 16))
    return features.astype(np.float32), labels


def test_head_learns_and_is_deterministic_for_a_seed() -> None:
    features, labels = _separable(0)
    config = ImageClassificationConfig(data="d", epochs=15, early_stopping_patience=30)
    runs = [
        train_head(features[:45], labels[:45], features[45:], labels[45:], 3, config)
        for _ in range(2)
    ]
    assert runs[0].best_validation_accuracy == 1.0
    assert [vars(epoch) for epoch in runs[0].history] == [vars(epoch) for epoch in runs[1].history]
    assert len(runs[0].history) == 15


def test_head_stops_early_and_keeps_the_best_epoch() -> None:
    features, labels = _separable(1)
    config = ImageClassificationConfig(data="d", epochs=200, early_stopping_patience=3)
    seen: list[int] = []
    result = train_head(
        features[:45],
        labels[:45],
        features[45:],
        labels[45:],
        3,
        config,
        on_epoch=lambda stats: seen.append(stats.epoch),
    )
    assert result.stopped_early
    assert len(result.history) < 200 and seen == [stats.epoch for stats in result.history]
    best = max(result.history, key=lambda stats: stats.validation_accuracy)
    assert result.best_validation_accuracy == best.validation_accuracy


def test_fine_tune_checkpoints_every_epoch_and_resumes(tmp_path: Path) -> None:
    records = scan_dataset(write_shapes(tmp_path / "data", per_class=3, size=(40, 40))).records
    labels = sorted({record.label for record in records})
    targets = [labels.index(record.label) for record in records]
    data = FineTuneData(
        [record.path for record in records], targets, stratified_split(targets, 0.3, 0), 3
    )
    config = ImageClassificationConfig(data="d", backbone="resnet18", epochs=1, batch_size=4)
    backbone = load_backbone("resnet18", "none")
    checkpoints = tmp_path / "checkpoints"
    first = fine_tune(backbone.network, backbone.feature_dim, data, config, checkpoints)
    assert (checkpoints / CHECKPOINT_FILE).exists()
    assert [stats.epoch for stats in first.history] == [1]
    # A requeued run continues after the last finished epoch instead of starting over.
    longer = ImageClassificationConfig(data="d", backbone="resnet18", epochs=2, batch_size=4)
    resumed = fine_tune(load_backbone("resnet18", "none").network, 512, data, longer, checkpoints)
    assert [stats.epoch for stats in resumed.history] == [1, 2]
    assert resumed.history[0] == first.history[0]
