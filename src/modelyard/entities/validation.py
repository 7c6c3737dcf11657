"""Checks of logged values against the published limits, run before anything is written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from modelyard.entities import limits
from modelyard.entities.records import Metric
from modelyard.errors import InvalidValue, LimitExceeded


def check_metric(name: str, value: float, step: int) -> None:
    _check_key("metric name", name, limits.METRIC_NAME_MAX)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(
            f"metric {name!r} has value {value!r} of type {type(value).__name__}:"
            " log a number (int or float)",
            metric=name,
        )
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise InvalidValue(
            f"metric {name!r} has step {step!r}: use a non-negative integer step", metric=name
        )


def check_batch(
    metrics: Sequence[Metric],
    params: Mapping[str, str] | None,
    tags: Mapping[str, str] | None,
) -> None:
    _check_count("metrics", len(metrics), limits.METRICS_PER_BATCH_MAX)
    _check_count("params", len(params or {}), limits.PARAMS_PER_BATCH_MAX)
    _check_count("tags", len(tags or {}), limits.TAGS_PER_BATCH_MAX)
    for metric in metrics:
        check_metric(metric.name, metric.value, metric.step)
    check_pairs("param", params or {}, limits.PARAM_KEY_MAX, limits.PARAM_VALUE_MAX)
    check_pairs("tag", tags or {}, limits.TAG_KEY_MAX, limits.TAG_VALUE_MAX)


def check_pairs(kind: str, pairs: Mapping[str, str], key_max: int, value_max: int) -> None:
    for key, value in pairs.items():
        _check_key(f"{kind} key", key, key_max)
        if not isinstance(value, str):
            raise InvalidValue(
                f"{kind} {key!r} has a {type(value).__name__} value: pass it as a string",
                key=key,
            )
        if len(value) > value_max:
            raise LimitExceeded(
                f"{kind} {key!r} has a value of {len(value)} characters, over the limit of"
                f" {value_max}: shorten it or upload it as an artifact",
                key=key,
                limit=value_max,
            )


def _check_key(kind: str, key: str, maximum: int) -> None:
    if not isinstance(key, str) or not key or len(key) > maximum or key != key.strip():
        raise InvalidValue(
            f"invalid {kind} {key!r}: use 1–{maximum} characters without leading or trailing"
            " spaces",
            key=str(key),
        )


def _check_count(kind: str, count: int, maximum: int) -> None:
    if count > maximum:
        raise LimitExceeded(
            f"a batch of {count} {kind} is over the limit of {maximum} per batch:"
            " split it into smaller batches",
            limit=maximum,
        )
