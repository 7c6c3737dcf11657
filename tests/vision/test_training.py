from __future__ import annotations

import copy
import dataclasses
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from shapes import write_shapes

from modelyard.vision.backbones import load_backbone
from modelyard.vision.checkpoints import TrainingStopped
from modelyard.vision.config import ImageClassificationConfig
from modelyard.vision.dataset import scan_dataset
from modelyard.vision.training import (
    CHECKPOINT_FILE,
    HEAD_CHECKPOINT_FILE,
    Checkpointing,
    EarlyStopping,
    EpochStats,
    FineTuneData,
    PlainSGD,
    TrainingResult,
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


class StopAfterEpochs:
    """A stop request that comes once the loop has finished `count` epochs (as SIGTERM does)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.epochs: list[int] = []

    def on_epoch(self, stats: EpochStats) -> None:
        self.epochs.append(stats.epoch)

    def stop_requested(self) -> bool:
        return len(self.epochs) >= self.count


def _train_head_until_done(
    features: np.ndarray,
    labels: np.ndarray,
    config: ImageClassificationConfig,
    folder: Path,
    stops: list[int],
) -> tuple[TrainingResult, list[int]]:
    """Train, stopped after each number of epochs in `stops` and resumed each time."""
    epochs_run: list[int] = []
    for count in [*stops, config.epochs + 1]:
        stopper = StopAfterEpochs(count)
        checkpointing = Checkpointing(folder, stopper.stop_requested)
        try:
            result = train_head(
                features[:45],
                labels[:45],
                features[45:],
                labels[45:],
                3,
                config,
                on_epoch=stopper.on_epoch,
                checkpointing=checkpointing,
            )
        except TrainingStopped:
            epochs_run.extend(stopper.epochs)
            continue
        epochs_run.extend(stopper.epochs)
        return result, epochs_run
    raise AssertionError("the training never finished")


@pytest.mark.parametrize("stops", [[3], [2, 4], [1, 1, 1]], ids=["once", "twice", "thrice"])
def test_a_stopped_head_resumes_to_the_same_numbers_as_an_uninterrupted_one(
    tmp_path: Path, stops: list[int]
) -> None:
    features, labels = _separable(2)
    config = ImageClassificationConfig(data="d", epochs=8, early_stopping_patience=30)
    whole = train_head(features[:45], labels[:45], features[45:], labels[45:], 3, config)

    resumed, epochs_run = _train_head_until_done(
        features, labels, config, tmp_path / "checkpoints", stops
    )

    # Each epoch ran exactly once over all the attempts: none repeated, none skipped.
    assert epochs_run == list(range(1, 9))
    assert [vars(s) for s in resumed.history] == [vars(s) for s in whole.history]
    assert resumed.best_epoch == whole.best_epoch
    for name, tensor in whole.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], tensor), name


def test_a_head_that_stopped_early_stays_stopped_when_resumed(tmp_path: Path) -> None:
    features, labels = _separable(1)
    config = ImageClassificationConfig(data="d", epochs=200, early_stopping_patience=3)
    checkpointing = Checkpointing(tmp_path)
    first = train_head(
        features[:45],
        labels[:45],
        features[45:],
        labels[45:],
        3,
        config,
        checkpointing=checkpointing,
    )
    assert first.stopped_early
    seen: list[int] = []
    again = train_head(
        features[:45],
        labels[:45],
        features[45:],
        labels[45:],
        3,
        config,
        on_epoch=lambda stats: seen.append(stats.epoch),
        checkpointing=checkpointing,
    )
    assert seen == [] and again.stopped_early
    assert [vars(s) for s in again.history] == [vars(s) for s in first.history]


def test_a_checkpoint_of_another_training_or_a_torn_one_is_not_resumed(tmp_path: Path) -> None:
    features, labels = _separable(0)
    config = ImageClassificationConfig(data="d", epochs=2, early_stopping_patience=30)
    resumed: list[list[EpochStats]] = []
    checkpointing = Checkpointing(tmp_path, on_resume=resumed.append)
    train_head(
        features[:45],
        labels[:45],
        features[45:],
        labels[45:],
        3,
        config,
        checkpointing=checkpointing,
    )
    other_seed = ImageClassificationConfig(data="d", epochs=2, seed=7)
    result = train_head(
        features[:45],
        labels[:45],
        features[45:],
        labels[45:],
        3,
        other_seed,
        checkpointing=checkpointing,
    )
    assert resumed == [] and [s.epoch for s in result.history] == [1, 2]
    (tmp_path / HEAD_CHECKPOINT_FILE).write_bytes(b"half a checkpoi")
    result = train_head(
        features[:45],
        labels[:45],
        features[45:],
        labels[45:],
        3,
        other_seed,
        checkpointing=checkpointing,
    )
    assert resumed == [] and [s.epoch for s in result.history] == [1, 2]


def test_a_checkpoint_resumes_when_the_validation_folder_lies_at_another_path(
    tmp_path: Path,
) -> None:
    """On Ray, or after a preemption, the same validation images arrive at another path."""
    features, labels = _separable(0)
    first = ImageClassificationConfig(data="d", epochs=3, validation_data="/node-a/check")
    stopper = StopAfterEpochs(1)
    with pytest.raises(TrainingStopped):
        train_head(
            features[:45],
            labels[:45],
            features[45:],
            labels[45:],
            3,
            first,
            on_epoch=stopper.on_epoch,
            checkpointing=Checkpointing(tmp_path, stopper.stop_requested),
        )
    moved = dataclasses.replace(first, validation_data="/node-b/elsewhere/check")
    seen: list[int] = []
    train_head(
        features[:45],
        labels[:45],
        features[45:],
        labels[45:],
        3,
        moved,
        on_epoch=lambda stats: seen.append(stats.epoch),
        checkpointing=Checkpointing(tmp_path),
    )
    assert seen == [2, 3]  # epoch 1 came from the checkpoint


def test_fine_tune_checkpoints_every_epoch_and_resumes(tmp_path: Path) -> None:
    records = scan_dataset(write_shapes(tmp_path / "data", per_class=3, size=(40, 40))).records
    labels = sorted({record.label for record in records})
    targets = [labels.index(record.label) for record in records]
    data = FineTuneData(
        [record.path for record in records], targets, stratified_split(targets, 0.3, 0), 3
    )
    config = ImageClassificationConfig(data="d", backbone="resnet18", epochs=1, batch_size=4)
    backbone = load_backbone("resnet18", "none")
    checkpoints = Checkpointing(tmp_path / "checkpoints")
    first = fine_tune(backbone.network, backbone.feature_dim, data, config, checkpoints)
    assert (checkpoints.folder / CHECKPOINT_FILE).exists()
    assert [stats.epoch for stats in first.history] == [1]
    # A requeued run continues after the last finished epoch instead of starting over.
    longer = ImageClassificationConfig(data="d", backbone="resnet18", epochs=2, batch_size=4)
    resumed = fine_tune(load_backbone("resnet18", "none").network, 512, data, longer, checkpoints)
    assert [stats.epoch for stats in resumed.history] == [1, 2]
    assert resumed.history[0] == first.history[0]
    # ...with the numbers of a fine-tuning never interrupted (generators restored, not reseeded).
    whole = fine_tune(
        load_backbone("resnet18", "none").network,
        512,
        data,
        longer,
        Checkpointing(tmp_path / "uninterrupted"),
    )
    assert resumed.history == whole.history
    for name, tensor in whole.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[name], tensor), name


def test_the_heads_sgd_step_gives_the_same_numbers_as_torch_optim_sgd() -> None:
    torch.manual_seed(0)
    ours_model = torch.nn.Linear(16, 3)
    torch_model = copy.deepcopy(ours_model)
    ours = PlainSGD(ours_model.parameters(), lr=0.05)
    reference = torch.optim.SGD(torch_model.parameters(), lr=0.05)
    for step in range(6):
        if step == 3:  # the learning rate decays between epochs
            ours.lr = reference.param_groups[0]["lr"] = 0.047
        inputs, targets = torch.randn(10, 16), torch.randint(0, 3, (10,))
        for model, optimizer in ((ours_model, ours), (torch_model, reference)):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(inputs), targets).backward()
            optimizer.step()
    assert torch.equal(ours_model.weight, torch_model.weight)
    assert torch.equal(ours_model.bias, torch_model.bias)
    assert not torch.equal(ours_model.weight, copy.deepcopy(torch.nn.Linear(16, 3)).weight)


def test_training_the_head_does_not_import_torch_dynamo() -> None:
    # torch.optim's first step imports torch._dynamo, about 2 s: more than a warm retrain.
    script = (
        "import sys, numpy as np\n"
        "from modelyard.vision.config import ImageClassificationConfig\n"
        "from modelyard.vision.training import train_head\n"
        "x = np.random.default_rng(0).normal(size=(30, 8)).astype(np.float32)\n"
        "y = np.arange(30) % 3\n"
        "train_head(x[:20], y[:20], x[20:], y[20:], 3, ImageClassificationConfig(data='d'))\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
