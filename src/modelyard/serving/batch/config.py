"""What a batch-scoring job is told: its model, its data and its limits, as a JSON config."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

from modelyard.errors import InvalidValue

DEFAULT_MINI_BATCH_SIZE: Final = 32
MAX_MINI_BATCH_SIZE: Final = 4096
NO_THRESHOLD: Final = "-1"  # Azure's word for "ignore every failure", and our default


@dataclass(frozen=True)
class ErrorThreshold:
    """How many files may fail before the run does: a count (`5`) or a share of all the
    files (`2.5%`); failing more than that many ends the run. None of either: no limit."""

    count: int | None = None
    percent: float | None = None

    @classmethod
    def parse(cls, text: str) -> ErrorThreshold:
        value = text.strip()
        if value == NO_THRESHOLD:
            return cls()
        try:
            if value.endswith("%"):
                percent = float(value[:-1])
                if not 0 <= percent <= 100 or math.isnan(percent):
                    raise ValueError(value)
                return cls(percent=percent)
            count = int(value)
            if count < 0:
                raise ValueError(value)
            return cls(count=count)
        except ValueError:
            raise InvalidValue(
                f"--error-threshold {text!r} is neither a count of files (0 or more), a"
                " percentage (0% to 100%) nor -1 (no limit): for example 10 or 2.5%",
                value=text,
            ) from None

    def allowed(self, total: int) -> int | None:
        """How many of `total` files may fail; None: any number."""
        if self.count is not None:
            return self.count
        if self.percent is not None:
            return math.floor(self.percent * total / 100)
        return None

    def describe(self) -> str:
        if self.count is not None:
            return str(self.count)
        if self.percent is not None:
            return f"{self.percent:g}%"
        return NO_THRESHOLD


@dataclass(frozen=True)
class BatchScoreConfig:
    """`model` is the folder of the model's files and `data` the folder of images, both as the
    job sees them (absolute on this machine, or inside the job's snapshot); `model_reference`
    says which registered version that folder is (`NAME:VERSION`)."""

    model: str
    model_reference: str
    data: str
    error_threshold: str = NO_THRESHOLD
    mini_batch_size: int = DEFAULT_MINI_BATCH_SIZE
    # A pause after each mini-batch: lets tests and demos stop a small job half-way.
    pause_s: float = 0.0

    def validated(self) -> BatchScoreConfig:
        ErrorThreshold.parse(self.error_threshold)
        if not 1 <= self.mini_batch_size <= MAX_MINI_BATCH_SIZE:
            raise InvalidValue(
                f"--mini-batch-size {self.mini_batch_size}: choose from 1 to"
                f" {MAX_MINI_BATCH_SIZE} files",
                value=self.mini_batch_size,
            )
        return self

    @property
    def threshold(self) -> ErrorThreshold:
        return ErrorThreshold.parse(self.error_threshold)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchScoreConfig:
        known = {item.name for item in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known}).validated()
