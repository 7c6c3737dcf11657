"""`ImageAutoMLConfig`: an AutoML-for-images job's settings (`modelyard automl --task
image-classification`), and its search space: backbones × learning rates × epochs.

As `ImageClassificationConfig`, the constructor only stores its arguments; `validated()` checks
them when the work starts (the CLI, the SDK and the service call it before any run exists).
Each candidate is the image trainer's own config with its backbone, learning rate and epochs
set (`candidate_config`), so a candidate trains exactly as `modelyard train` would.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

from modelyard.errors import InvalidValue
from modelyard.vision.config import (
    BACKBONE_NAMES,
    WEIGHTS_IMAGENET,
    ImageClassificationConfig,
    check_known_keys,
)

IMAGE_CLASSIFICATION_TASK: Final = "image-classification"
PRIMARY_METRIC: Final = "accuracy"  # the validation images', as Azure's image classification
# The search space of the issue: Model Builder's resnet50, a small resnet, a mobile network and
# the one whose ImageNet weights ship in a package (the only one that works offline).
DEFAULT_BACKBONES: Final = ("resnet50", "resnet18", "mobilenet_v3_large", "efficientnet-lite0")
BACKBONE_ALIASES: Final = {"mobilenet": "mobilenet_v3_large"}
DEFAULT_LEARNING_RATES: Final = (0.01, 0.003, 0.03)
DEFAULT_EPOCHS: Final = (50, 200)  # upper bounds: early stopping ends most heads sooner
DEFAULT_TIME_BUDGET_S: Final = 600.0
# Less cannot hold one trial: loading a backbone, exporting it for featurization and
# featurizing even a few images take seconds on a CPU.
MIN_TIME_BUDGET_S: Final = 10.0
# A finalist fine-tunes the whole network at its head's rate times this: a rate that suits a
# linear head on standardized features makes a pretrained network's weights diverge.
FINE_TUNE_RATE_FACTOR: Final = 0.1


@dataclass(frozen=True)
class ImageAutoMLConfig:
    """What to search and for how long; the other training settings are the trainer's."""

    data: str
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    allowed_backbones: Sequence[str] | None = None  # None: DEFAULT_BACKBONES
    blocked_backbones: Sequence[str] = field(default_factory=tuple)
    learning_rates: Sequence[float] = DEFAULT_LEARNING_RATES
    epochs: Sequence[int] = DEFAULT_EPOCHS
    # The best this many head-only candidates are trained again as whole networks (0: none).
    fine_tune_finalists: int = 0
    primary_metric: str = PRIMARY_METRIC
    weights: str = WEIGHTS_IMAGENET
    batch_size: int = 10
    validation_fraction: float = 0.1
    seed: int = 0
    model_name: str = "MLModel"
    compute_target: str = "local"

    @property
    def backbones(self) -> tuple[str, ...]:
        """The backbones to search, in order, aliases resolved."""
        allowed = [backbone_name(n) for n in self.allowed_backbones or DEFAULT_BACKBONES]
        blocked = {backbone_name(n) for n in self.blocked_backbones}
        return tuple(dict.fromkeys(n for n in allowed if n not in blocked))

    def candidates(self) -> list[Candidate]:
        """Every (backbone, learning rate, epochs), breadth first: each backbone's first
        setting before any backbone's second, so a short budget still compares backbones."""
        grid = itertools.product(self.learning_rates, self.epochs)
        return [
            Candidate(backbone, float(rate), int(epochs))
            for rate, epochs in grid
            for backbone in self.backbones
        ]

    def base_config(self) -> ImageClassificationConfig:
        """The image trainer's config shared by every candidate (the data, weights, split)."""
        return ImageClassificationConfig(
            data=self.data,
            backbone=self.backbones[0] if self.backbones else DEFAULT_BACKBONES[0],
            weights=self.weights,
            batch_size=self.batch_size,
            validation_fraction=self.validation_fraction,
            seed=self.seed,
            model_name=self.model_name,
            compute_target=self.compute_target,
        )

    def candidate_config(self, candidate: Candidate) -> ImageClassificationConfig:
        factor = FINE_TUNE_RATE_FACTOR if candidate.fine_tuned else 1.0
        return replace(
            self.base_config(),
            backbone=candidate.backbone,
            learning_rate=candidate.learning_rate * factor,
            epochs=candidate.epochs,
            fine_tune=candidate.fine_tuned,
        )

    def validated(self) -> ImageAutoMLConfig:
        """The config with its data path made absolute; InvalidValue names the bad value."""
        if self.primary_metric != PRIMARY_METRIC:
            raise InvalidValue(
                f"--primary-metric {self.primary_metric!r} is not one for image classification:"
                f" use {PRIMARY_METRIC} (of the validation images)",
                value=self.primary_metric,
            )
        if not self.backbones:
            raise InvalidValue(
                "--allowed-models and --blocked-models leave no backbone to try: allow at least"
                f" one of {', '.join(DEFAULT_BACKBONES)}"
            )
        _check_not_empty("--learning-rates", self.learning_rates)
        _check_not_empty("--epochs", self.epochs)
        _check_int("--fine-tune-finalists", self.fine_tune_finalists)
        self._check_budget()
        checked = self.base_config().validated()  # the data, the weights, the split's settings
        for candidate in self.candidates():
            self.candidate_config(candidate).validated()  # each rate and epochs in range
        return replace(
            self,
            data=checked.data,
            weights=checked.weights,
            allowed_backbones=self.backbones,
            blocked_backbones=(),
            learning_rates=tuple(float(rate) for rate in self.learning_rates),
            epochs=tuple(int(count) for count in self.epochs),
        )

    def _check_budget(self) -> None:
        budget = self.time_budget_s
        if not isinstance(budget, int | float) or isinstance(budget, bool) or budget != budget:
            raise InvalidValue(f"--time-budget {budget!r} is not a number of seconds")
        if budget < MIN_TIME_BUDGET_S:
            raise InvalidValue(
                f"--time-budget {budget:g} s is too small for one trial of image classification"
                f" (a backbone's featurization and a head's training): give at least"
                f" {MIN_TIME_BUDGET_S:g} s",
                time_budget_s=budget,
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("allowed_backbones", "blocked_backbones", "learning_rates", "epochs"):
            data[key] = None if data[key] is None else list(data[key])
        return data

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> ImageAutoMLConfig:
        check_known_keys(payload, cls, "image AutoML config")
        return cls(**dict(payload))


@dataclass(frozen=True)
class Candidate:
    """One point of the search: a child run, named by `key`."""

    backbone: str
    learning_rate: float
    epochs: int
    fine_tuned: bool = False

    @property
    def key(self) -> str:
        """ "resnet18 lr=0.01 epochs=50" (and " fine-tuned"): the child's name and tag."""
        tail = " fine-tuned" if self.fine_tuned else ""
        return f"{self.backbone} lr={self.learning_rate:g} epochs={self.epochs}{tail}"

    @property
    def folder(self) -> str:
        """The candidate's checkpoint folder name: the key without spaces or '='."""
        return self.key.replace(" ", "_").replace("=", "-")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def backbone_name(name: str) -> str:
    """The registry's name of a backbone the user named (`mobilenet` is mobilenet_v3_large)."""
    resolved = BACKBONE_ALIASES.get(name.lower(), name)
    if resolved in BACKBONE_NAMES:
        return resolved
    choices = [*BACKBONE_NAMES, *BACKBONE_ALIASES]
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise InvalidValue(
        f"backbone {name!r} is not an image-classification candidate: {hint}choose from"
        f" {', '.join(choices)}",
        backbone=name,
    )


def _check_not_empty(flag: str, values: Sequence[Any]) -> None:
    if not values:
        raise InvalidValue(f"{flag} is empty: give at least one value")


def _check_int(flag: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidValue(f"{flag} {value!r} must be a whole number of 0 or more", value=value)
