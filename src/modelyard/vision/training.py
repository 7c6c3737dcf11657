"""Training: the stratified split, the head on cached features, and whole-network fine-tuning.

Both loops share ML.NET's rules: learning rate × decay every `decay_every_epochs`, early
stopping when validation accuracy has not improved by `early_stopping_min_delta` for
`early_stopping_patience` epochs, and the best epoch's weights are the model. Seeded: the same
data, config and seed give the same numbers on a CPU.

Both are resumable (`Checkpointing`): each epoch ends with a checkpoint of everything the loop
carries, so a job preempted and run again continues after its last finished epoch and ends with
the numbers of a job never interrupted.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch
from torch import nn

from modelyard.vision import preprocessing
from modelyard.vision.backbones import seeded
from modelyard.vision.checkpoints import (
    TrainingStopped,
    load_checkpoint,
    random_states,
    restore_random_states,
    save_checkpoint,
)
from modelyard.vision.config import ImageClassificationConfig
from modelyard.vision.dataset import decode_image, load_inputs

CHECKPOINT_FILE: Final = "checkpoint.pt"  # fine-tuning's
HEAD_CHECKPOINT_FILE: Final = "head_checkpoint.pt"
# What a checkpoint must agree on to be resumed from; `epochs` may grow (train on for longer).
# No folder paths (`data`, `validation_data`): on Ray, or after a preemption, the same images lie
# at another path; the split's sizes (and whether a validation folder is given) stand for them.
_SIGNATURE_FIELDS: Final = (
    "backbone",
    "weights",
    "batch_size",
    "learning_rate",
    "learning_rate_decay",
    "decay_every_epochs",
    "validation_fraction",
    "early_stopping_patience",
    "early_stopping_min_delta",
    "seed",
)


@dataclass(frozen=True)
class Split:
    train: list[int]
    validation: list[int]


def stratified_split(labels: Sequence[int], fraction: float, seed: int) -> Split:
    """Per class, round(n × fraction) images go to validation, at least one and never all."""
    rng = np.random.default_rng(seed)
    train: list[int] = []
    validation: list[int] = []
    by_class: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        by_class.setdefault(label, []).append(index)
    for label in sorted(by_class):
        members = [by_class[label][i] for i in rng.permutation(len(by_class[label]))]
        count = min(max(round(len(members) * fraction), 1), len(members) - 1)
        validation.extend(members[:count])
        train.extend(members[count:])
    return Split(sorted(train), sorted(validation))


@dataclass(frozen=True)
class EpochStats:
    epoch: int  # 1-based
    train_loss: float
    train_accuracy: float
    validation_loss: float
    validation_accuracy: float
    learning_rate: float

    def as_metrics(self) -> dict[str, float]:
        return {
            "train_loss": self.train_loss,
            "train_accuracy": self.train_accuracy,
            "validation_loss": self.validation_loss,
            "validation_accuracy": self.validation_accuracy,
            "learning_rate": self.learning_rate,
        }


@dataclass
class TrainingResult:
    model: nn.Module  # holds the best epoch's weights
    best_epoch: int
    best_validation_accuracy: float
    history: list[EpochStats] = field(default_factory=list)
    stopped_early: bool = False


def learning_rate_at(config: ImageClassificationConfig, epoch_index: int) -> float:
    """ML.NET's exponential decay, stepped: epoch_index counts from 0."""
    steps = epoch_index // config.decay_every_epochs
    return config.learning_rate * config.learning_rate_decay**steps


class EarlyStopping:
    def __init__(self, patience: int, min_delta: float) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best = -1.0
        self.best_loss = float("inf")
        self.best_epoch = 0
        self.waited = 0

    def improved(self, epoch: int, accuracy: float, loss: float = float("inf")) -> bool:
        """True when this epoch is the new best model; counts the wait for a real improvement.

        The best model has the highest validation accuracy, and among equals the lowest
        validation loss (on small validation sets accuracy ties are common).
        """
        if accuracy >= self.best + self.min_delta:
            self.waited = 0
        else:
            self.waited += 1
        if accuracy > self.best or (accuracy == self.best and loss < self.best_loss):
            self.best, self.best_loss, self.best_epoch = accuracy, loss, epoch
            return True
        return False

    @property
    def should_stop(self) -> bool:
        return self.waited >= self.patience


class Head(nn.Module):
    """Standardize the features with the training set's statistics, then one linear layer.

    Standardizing keeps ML.NET's learning rate of 0.01 meaningful whatever the backbone's
    feature scale; the statistics are buffers, so they travel inside the exported model.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, num_classes: int) -> None:
        super().__init__()
        self.register_buffer("mean", mean.clone())
        self.register_buffer("std", std.clone())
        self.linear = nn.Linear(mean.numel(), num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        standardized: torch.Tensor = (features - self.mean) / self.std
        return self.linear(standardized)  # type: ignore[no-any-return]

    @classmethod
    def fitted_to(cls, features: torch.Tensor, num_classes: int) -> Head:
        mean = features.mean(dim=0)
        std = features.std(dim=0, unbiased=False)
        # A nearly constant feature (a ReLU that rarely fires) would be divided by almost zero,
        # amplifying float noise into the logits: floor each std at 1 % of the typical one.
        floor = max(float(std.mean()) * 0.01, 1e-6)
        return cls(mean, std.clamp_min(floor), num_classes)

    @classmethod
    def identity_scaled(cls, feature_dim: int, num_classes: int) -> Head:
        return cls(torch.zeros(feature_dim), torch.ones(feature_dim), num_classes)


class PlainSGD:
    """The head's optimizer: torch.optim.SGD without momentum or weight decay, by hand.

    The same update with the same in-place operation (p ← p − lr·∇p), so the same numbers;
    torch.optim is avoided because its first use imports torch._dynamo, which takes longer
    (about 2 s) than training a head for many epochs.
    """

    def __init__(self, parameters: Iterable[nn.Parameter], lr: float) -> None:
        self.parameters = list(parameters)
        self.lr = lr

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    def step(self) -> None:
        with torch.no_grad():
            for parameter in self.parameters:
                if parameter.grad is not None:
                    parameter.add_(parameter.grad, alpha=-self.lr)

    def state_dict(self) -> dict[str, Any]:
        return {"lr": self.lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.lr = float(state["lr"])


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one thread for the block, as many as before after it.

    For small work such as the head's (batches of 10 feature vectors): a second thread only
    adds waiting, and when other processes share the cores each wait can last a time slice.
    Measured on 2 shared cores: 3 epochs of a head in 0.15 s on one thread, 2 to 9 s on two.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# --- checkpoints -----------------------------------------------------------------------------


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Checkpointing:
    """Where a training loop keeps its checkpoint, and how it learns that it must stop.

    Each epoch ends with a checkpoint in `folder`: the weights, the optimizer, early stopping,
    the best model so far and the history, and every random generator the loop draws from. A
    loop that finds a checkpoint of the same training there continues after its epoch, with
    the numbers an uninterrupted loop gets, and first hands the restored history to
    `on_resume` (the epochs whose metrics a killed attempt may not have written). When
    `stop_requested()` is true after a checkpoint and epochs remain, it raises TrainingStopped.
    """

    folder: Path
    stop_requested: Callable[[], bool] = _never
    on_resume: Callable[[list[EpochStats]], None] | None = None


@dataclass
class _Loop:
    """What a training loop carries from one epoch to the next: what a checkpoint holds."""

    model: nn.Module
    optimizer: Any  # torch.optim.Optimizer or PlainSGD (both have state_dict/load_state_dict)
    generator: torch.Generator
    stopping: EarlyStopping
    result: TrainingResult
    signature: dict[str, Any]
    epochs_done: int = 0

    def epochs_left(self, epochs: int) -> bool:
        return not self.result.stopped_early and self.epochs_done < epochs


def _signature(
    config: ImageClassificationConfig, kind: str, split: Split, classes: int, features: int
) -> dict[str, Any]:
    return {
        "kind": kind,
        **{name: getattr(config, name) for name in _SIGNATURE_FIELDS},
        "validation_folder": config.validation_data is not None,
        "train": len(split.train),
        "validation": len(split.validation),
        "classes": classes,
        "features": features,
    }


def _loop_state(loop: _Loop) -> dict[str, Any]:
    result, stopping = loop.result, loop.stopping
    return {
        "signature": loop.signature,
        "epochs_done": loop.epochs_done,
        "model": loop.model.state_dict(),
        "optimizer": loop.optimizer.state_dict(),
        "best_model": result.model.state_dict(),
        "best_epoch": result.best_epoch,
        "best_validation_accuracy": result.best_validation_accuracy,
        "stopped_early": result.stopped_early,
        "stopping": [stopping.best, stopping.best_loss, stopping.best_epoch, stopping.waited],
        "history": [vars(stats) for stats in result.history],
        "random": random_states(loop.generator),
    }


def _resume(loop: _Loop, checkpointing: Checkpointing | None, file_name: str) -> None:
    """Continue after the checkpoint's epoch, if there is a checkpoint of this training."""
    if checkpointing is None:
        return
    state = load_checkpoint(checkpointing.folder / file_name, loop.signature)
    if state is None:
        return
    result, stopping = loop.result, loop.stopping
    loop.model.load_state_dict(state["model"])
    loop.optimizer.load_state_dict(state["optimizer"])
    result.model.load_state_dict(state["best_model"])
    result.best_epoch = int(state["best_epoch"])
    result.best_validation_accuracy = float(state["best_validation_accuracy"])
    result.stopped_early = bool(state["stopped_early"])
    result.history = [EpochStats(**stats) for stats in state["history"]]
    stopping.best, stopping.best_loss, stopping.best_epoch, stopping.waited = state["stopping"]
    restore_random_states(loop.generator, state["random"])
    loop.epochs_done = int(state["epochs_done"])
    if checkpointing.on_resume is not None:
        checkpointing.on_resume(list(result.history))


def _end_epoch(
    loop: _Loop, checkpointing: Checkpointing | None, file_name: str, epochs: int
) -> None:
    """Checkpoint the finished epoch; stop here if asked to and epochs remain."""
    loop.epochs_done += 1
    if checkpointing is None:
        return
    save_checkpoint(checkpointing.folder / file_name, _loop_state(loop))
    if loop.epochs_left(epochs) and checkpointing.stop_requested():
        raise TrainingStopped(f"after epoch {loop.epochs_done}")


# --- the head on cached features -----------------------------------------------------------


def train_head(
    train_x: Any,
    train_y: Any,
    validation_x: Any,
    validation_y: Any,
    num_classes: int,
    config: ImageClassificationConfig,
    on_epoch: Callable[[EpochStats], None] | None = None,
    checkpointing: Checkpointing | None = None,
) -> TrainingResult:
    with seeded(config.seed), one_thread():
        features = torch.from_numpy(np.asarray(train_x, dtype=np.float32))
        targets = torch.from_numpy(np.asarray(train_y, dtype=np.int64))
        val_features = torch.from_numpy(np.asarray(validation_x, dtype=np.float32))
        val_targets = torch.from_numpy(np.asarray(validation_y, dtype=np.int64))
        head = Head.fitted_to(features, num_classes)
        sizes = Split(list(range(len(targets))), list(range(len(val_targets))))
        loop = _Loop(
            head,
            PlainSGD(head.parameters(), lr=config.learning_rate),
            torch.Generator().manual_seed(config.seed),
            EarlyStopping(config.early_stopping_patience, config.early_stopping_min_delta),
            TrainingResult(copy.deepcopy(head), 0, 0.0),
            _signature(config, "head", sizes, num_classes, int(features.shape[1])),
        )
        _resume(loop, checkpointing, HEAD_CHECKPOINT_FILE)
        loss_function = nn.CrossEntropyLoss()
        while loop.epochs_left(config.epochs):
            rate = learning_rate_at(config, loop.epochs_done)
            loop.optimizer.lr = rate
            head.train()
            train_loss, train_accuracy = _head_epoch(
                head,
                loop.optimizer,
                loss_function,
                features,
                targets,
                config.batch_size,
                loop.generator,
            )
            val_loss, val_accuracy = _evaluate_head(head, loss_function, val_features, val_targets)
            stats = EpochStats(
                loop.epochs_done + 1, train_loss, train_accuracy, val_loss, val_accuracy, rate
            )
            _record_epoch(loop.result, loop.stopping, stats, head, on_epoch)
            _end_epoch(loop, checkpointing, HEAD_CHECKPOINT_FILE, config.epochs)
    loop.result.model.eval()
    return loop.result


def _record_epoch(
    result: TrainingResult,
    stopping: EarlyStopping,
    stats: EpochStats,
    model: nn.Module,
    on_epoch: Callable[[EpochStats], None] | None,
) -> bool:
    """Keep the best weights and the history; True when early stopping says stop."""
    result.history.append(stats)
    if stopping.improved(stats.epoch, stats.validation_accuracy, stats.validation_loss):
        result.model = copy.deepcopy(model)
        result.best_epoch = stats.epoch
        result.best_validation_accuracy = stats.validation_accuracy
    if on_epoch is not None:
        on_epoch(stats)
    result.stopped_early = stopping.should_stop
    return stopping.should_stop


def _head_epoch(
    head: Head,
    optimizer: PlainSGD,
    loss_function: nn.Module,
    features: torch.Tensor,
    targets: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> tuple[float, float]:
    order = torch.randperm(len(targets), generator=generator)
    total_loss = 0.0
    correct = 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        logits = head(features[batch])
        loss = loss_function(logits, targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(batch)
        correct += int((logits.argmax(dim=1) == targets[batch]).sum())
    return total_loss / len(order), correct / len(order)


def _evaluate_head(
    head: nn.Module, loss_function: nn.Module, features: torch.Tensor, targets: torch.Tensor
) -> tuple[float, float]:
    head.eval()
    with torch.no_grad():
        logits = head(features)
        loss = float(loss_function(logits, targets))
        accuracy = float((logits.argmax(dim=1) == targets).float().mean())
    return loss, accuracy


def _set_learning_rate(
    optimizer: torch.optim.Optimizer, config: ImageClassificationConfig, epoch_index: int
) -> float:
    rate = learning_rate_at(config, epoch_index)
    for group in optimizer.param_groups:
        group["lr"] = rate
    return rate


# --- fine-tuning the whole network ---------------------------------------------------------


@dataclass(frozen=True)
class FineTuneData:
    paths: Sequence[Path]
    labels: Sequence[int]
    split: Split
    num_classes: int


def fine_tune(
    backbone: nn.Module,
    feature_dim: int,
    data: FineTuneData,
    config: ImageClassificationConfig,
    checkpointing: Checkpointing,
    on_epoch: Callable[[EpochStats], None] | None = None,
) -> TrainingResult:
    """Train backbone + head on augmented images, resumable from its per-epoch checkpoint."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with seeded(config.seed):
        model = nn.Sequential(backbone, Head.identity_scaled(feature_dim, data.num_classes))
        model = model.to(device).to(memory_format=torch.channels_last)
        optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=0.9)
        loop = _Loop(
            model,
            optimizer,
            torch.Generator().manual_seed(config.seed),
            EarlyStopping(config.early_stopping_patience, config.early_stopping_min_delta),
            TrainingResult(copy.deepcopy(model), 0, 0.0),
            _signature(config, "fine-tune", data.split, data.num_classes, feature_dim),
        )
        _resume(loop, checkpointing, CHECKPOINT_FILE)
        while loop.epochs_left(config.epochs):
            rate = _set_learning_rate(optimizer, config, loop.epochs_done)
            train_loss, train_accuracy = _fine_tune_epoch(
                model, optimizer, data, config.batch_size, loop.generator, device
            )
            val_loss, val_accuracy = _evaluate_images(model, data, device, config.batch_size)
            stats = EpochStats(
                loop.epochs_done + 1, train_loss, train_accuracy, val_loss, val_accuracy, rate
            )
            _record_epoch(loop.result, loop.stopping, stats, model, on_epoch)
            _end_epoch(loop, checkpointing, CHECKPOINT_FILE, config.epochs)
    result = loop.result
    result.model = result.model.cpu().to(memory_format=torch.contiguous_format)
    result.model.eval()
    return result


def _autocast(device: torch.device) -> contextlib.AbstractContextManager[Any]:
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if _cpu_has_bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _cpu_has_bf16() -> bool:
    """Native bf16 arithmetic (AVX-512 BF16 or AMX); elsewhere bf16 is emulated and slower."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _fine_tune_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: FineTuneData,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device,
) -> tuple[float, float]:
    model.train()
    loss_function = nn.CrossEntropyLoss()
    order = [
        data.split.train[i] for i in torch.randperm(len(data.split.train), generator=generator)
    ]
    total_loss, correct = 0.0, 0
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        inputs = _augmented_batch(data, chunk, generator).to(device)
        inputs = inputs.to(memory_format=torch.channels_last)
        targets = torch.tensor([data.labels[i] for i in chunk], device=device)
        with _autocast(device):
            logits = model(inputs)
            loss = loss_function(logits.float(), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(chunk)
        correct += int((logits.argmax(dim=1) == targets).sum())
    return total_loss / len(order), correct / len(order)


def _augmented_batch(data: FineTuneData, chunk: list[int], generator: torch.Generator) -> Any:
    from torchvision.transforms import v2

    spec = preprocessing.default_spec()
    augment = v2.Compose(
        [
            v2.RandomResizedCrop(spec["crop"], scale=(0.5, 1.0), antialias=True),
            v2.RandomHorizontalFlip(),
        ]
    )
    images = []
    for index in chunk:
        # torchvision's transforms draw from the global generator: seed it from ours.
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        image = augment(decode_image(data.paths[index]))
        images.append(torch.from_numpy(preprocessing.to_input(image, _no_resize(spec))))
    return torch.stack(images)


def _no_resize(spec: dict[str, Any]) -> dict[str, Any]:
    # The random crop already produced crop×crop pixels.
    return {**spec, "resize": spec["crop"]}


def _evaluate_images(
    model: nn.Module, data: FineTuneData, device: torch.device, batch_size: int
) -> tuple[float, float]:
    model.eval()
    loss_function = nn.CrossEntropyLoss(reduction="sum")
    total_loss, correct = 0.0, 0
    indices = data.split.validation
    with torch.no_grad():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            batch = load_inputs([data.paths[i] for i in chunk])
            inputs = torch.from_numpy(batch).to(device).to(memory_format=torch.channels_last)
            targets = torch.tensor([data.labels[i] for i in chunk], device=device)
            logits = model(inputs).float()
            total_loss += float(loss_function(logits, targets))
            correct += int((logits.argmax(dim=1) == targets).sum())
    return total_loss / len(indices), correct / len(indices)
