"""What an image-classification run trains on and how: one value, checked before submission.

The defaults are ML.NET's image classification trainer's: 200 epochs, batch 10, learning rate
0.01 decayed ×0.94 every 2 epochs, early stopping on validation accuracy (patience 20, minimum
improvement 0.01) and a 10 % stratified validation split.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from modelyard.errors import InvalidValue, NotFound

BACKBONE_NAMES: Final = (
    "resnet50",
    "resnet18",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "efficientnet-lite0",
)
DEFAULT_BACKBONE: Final = "resnet50"
# The option (CLI flag spelling) that lets a table name images outside its own folder.
ALLOW_OUTSIDE_OPTION: Final = "--allow-paths-outside-table"
WEIGHTS_IMAGENET: Final = "imagenet"
WEIGHTS_NONE: Final = "none"
MAX_EPOCHS: Final = 10_000
MAX_BATCH_SIZE: Final = 4096
_MODEL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_REQUIRED = MISSING


def _option(default: Any = _REQUIRED, *, help: str, flag: str | None = None) -> Any:
    """A config field with what the CLI says of it; `flag` when not `--field-name`."""
    return field(default=default, metadata={"help": help, "flag": flag})


def cli_flag(item: Field[Any]) -> str:
    """The command-line spelling of a config field."""
    flag: str | None = item.metadata.get("flag")
    return flag or "--" + item.name.replace("_", "-")


@dataclass(frozen=True)
class ImageClassificationConfig:
    """The SDK's spelling of `modelyard train image-classification`; submit it to an Experiment."""

    # Each field's `help` (and `flag`, where the CLI spells it otherwise) is what
    # `modelyard train image-classification` offers: the command is derived from these fields.
    data: str = _option(help="folder with a sub-folder per label, or a CSV/TSV table")
    backbone: str = _option(
        DEFAULT_BACKBONE, help=f"network to start from: {', '.join(BACKBONE_NAMES)}"
    )
    weights: str = _option(WEIGHTS_IMAGENET, help="imagenet, none or the path of a state dict")
    epochs: int = _option(200, help="most epochs (early stopping may end sooner)")
    batch_size: int = _option(10, help="images per training step")
    learning_rate: float = _option(0.01, help="the head's (or network's) learning rate")
    learning_rate_decay: float = _option(0.94, help="multiply the learning rate by this...")
    decay_every_epochs: int = _option(2, help="...every this many epochs (ML.NET's schedule)")
    validation_fraction: float = _option(0.1, help="share of images held out to validate")
    validation_data: str | None = _option(
        None, help="images to validate on (as --data), instead of holding out a share"
    )
    early_stopping_patience: int = _option(20, help="epochs without improvement before stopping")
    early_stopping_min_delta: float = _option(0.01, help="smallest improvement that counts")
    fine_tune: bool = _option(False, help="train the whole network, not only the head")
    seed: int = _option(0, help="seed of the split and of training")
    output: str | None = _option(None, help="also write the project (model, starter code) here")
    model_name: str = _option("MLModel", help="name of the starter project")
    compute_target: str = _option("local", flag="--compute", help="compute target")
    # A table's ImageSource paths stay inside the table's folder unless this is set.
    allow_paths_outside_table: bool = _option(
        False, flag=ALLOW_OUTSIDE_OPTION, help="read a table's images outside its folder"
    )

    def validated(self) -> ImageClassificationConfig:
        """The same config with absolute paths; raises InvalidValue/NotFound naming the fix."""
        _check_choice("backbone", self.backbone, BACKBONE_NAMES)
        _check_weights(self.weights)
        _check_int("epochs", self.epochs, 1, MAX_EPOCHS)
        _check_int("batch-size", self.batch_size, 1, MAX_BATCH_SIZE)
        _check_positive("learning-rate", self.learning_rate)
        _check_fraction("learning-rate-decay", self.learning_rate_decay, upper_inclusive=True)
        _check_int("decay-every-epochs", self.decay_every_epochs, 1, MAX_EPOCHS)
        _check_fraction("validation-fraction", self.validation_fraction)
        _check_int("early-stopping-patience", self.early_stopping_patience, 1, MAX_EPOCHS)
        _check_non_negative("early-stopping-min-delta", self.early_stopping_min_delta)
        _check_int("seed", self.seed, 0, 2**32 - 1)
        _check_model_name(self.model_name)
        _check_bool("allow-paths-outside-table", self.allow_paths_outside_table)
        data = Path(self.data).expanduser().absolute()
        if not data.exists():
            raise NotFound(
                f"data {self.data!r} does not exist: pass a folder with one sub-folder per label"
                " or a CSV/TSV table with the columns ImageSource,Label",
                data=self.data,
            )
        weights = self.weights
        if weights not in (WEIGHTS_IMAGENET, WEIGHTS_NONE):
            weights = str(_existing_weights_file(weights))
        output = None if self.output is None else str(Path(self.output).expanduser().absolute())
        validation = None if self.validation_data is None else _existing_validation(self)
        return _replace(
            self, data=str(data), weights=weights, output=output, validation_data=validation
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, payload: dict[str, Any]) -> ImageClassificationConfig:
        check_known_keys(payload, cls, "image-classification config")
        return cls(**payload)


def _existing_validation(config: ImageClassificationConfig) -> str:
    given = str(config.validation_data)
    path = Path(given).expanduser().absolute()
    if not path.exists():
        raise NotFound(
            f"--validation-data {given!r} does not exist: pass a folder with one sub-folder per"
            " label (the training data's labels) or a CSV/TSV table, or leave it out to hold"
            " out --validation-fraction of the data",
            data=given,
        )
    return str(path)


def check_known_keys(payload: Mapping[str, Any], config: Any, what: str) -> None:
    """A config's dict (`config.json`) names only the fields of its dataclass `config`."""
    known = {item.name for item in fields(config)}
    unknown = sorted(set(payload) - known)
    if unknown:
        raise InvalidValue(
            f"{what} has unknown keys {unknown}: use only {sorted(known)}", keys=unknown
        )


def _replace(config: ImageClassificationConfig, **changes: Any) -> ImageClassificationConfig:
    return ImageClassificationConfig(**{**config.to_dict(), **changes})


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidValue(
            f"unknown {option} {value!r}: choose one of {', '.join(choices)}",
            option=option,
            value=value,
        )


def _check_weights(value: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidValue(
            f"weights {value!r} is not valid: use imagenet, none or the path of a state dict",
            value=value,
        )


def _existing_weights_file(value: str) -> Path:
    path = Path(value).expanduser().absolute()
    if not path.is_file():
        raise NotFound(
            f"weights file {value!r} does not exist: pass --weights imagenet, --weights none"
            " or the path of a saved state dict",
            path=value,
        )
    return path


def _check_int(option: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidValue(
            f"--{option} {value!r} is out of range: use a whole number from {low} to {high}",
            option=option,
            value=value,
        )


def _check_positive(option: str, value: object) -> None:
    if not _is_finite_number(value) or float(value) <= 0:  # type: ignore[arg-type]
        raise InvalidValue(
            f"--{option} {value!r} must be a number above 0, such as 0.01",
            option=option,
            value=value,
        )


def _check_non_negative(option: str, value: object) -> None:
    if not _is_finite_number(value) or float(value) < 0:  # type: ignore[arg-type]
        raise InvalidValue(
            f"--{option} {value!r} must be a number of 0 or more", option=option, value=value
        )


def _check_fraction(option: str, value: object, upper_inclusive: bool = False) -> None:
    number = float(value) if _is_finite_number(value) else math.nan  # type: ignore[arg-type]
    upper_ok = number <= 1 if upper_inclusive else number < 1
    if not (number > 0 and upper_ok):
        bound = "1" if upper_inclusive else "below 1"
        raise InvalidValue(
            f"--{option} {value!r} must be above 0 and {bound}, such as 0.1",
            option=option,
            value=value,
        )


def _is_finite_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _check_bool(option: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidValue(
            f"{option.replace('-', '_')} {value!r} must be True or False",
            option=option,
            value=value,
        )


def _check_model_name(value: str) -> None:
    if not isinstance(value, str) or not _MODEL_NAME.match(value):
        raise InvalidValue(
            f"model name {value!r} is not valid: start with a letter, then letters, digits or"
            " underscores (at most 64), like MLModel",
            value=value,
        )
