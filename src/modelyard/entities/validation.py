"""Checks of logged values against the published limits, run before anything is written."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from modelyard.entities import limits
from modelyard.entities.records import Metric
from modelyard.errors import InvalidValue, LimitExceeded

VERSION_MAX = 2**31 - 1  # a version number's INTEGER column
_VERSION = re.compile(r"[1-9][0-9]{0,9}")


def check_version_number(version: object, subject: str, listed_by: str, **context: Any) -> int:
    """A registry's version number (a model's, a data asset's): a whole number from 1, as text
    or int; one line naming `subject` and the command that lists the versions otherwise."""
    text = str(version)
    if isinstance(version, bool) or not _VERSION.fullmatch(text) or int(text) > VERSION_MAX:
        raise InvalidValue(
            f"{subject} {text[:40]!r} is not a version number: use a whole number from 1,"
            f" as `{listed_by}` lists them",
            version=text[:40],
            **context,
        )
    return int(text)


def check_metric(name: str, value: float, step: int) -> None:
    _check_key("metric name", name, limits.METRIC_NAME_MAX)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue(
            f"metric {name!r} has value {value!r} of type {type(value).__name__}:"
            " log a number (int or float)",
            metric=name,
        )
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= limits.STEP_MAX:
        raise InvalidValue(
            f"metric {name!r} has step {step!r}: use an integer step from 0 to {limits.STEP_MAX}",
            metric=name,
        )


def check_timestamp(what: str, moment: float) -> None:
    """Seconds since the epoch, finite, and within what a datetime holds."""
    if (
        isinstance(moment, bool)
        or not isinstance(moment, int | float)
        or not math.isfinite(moment)
        or not 0 <= moment <= limits.TIMESTAMP_MAX
    ):
        raise InvalidValue(
            f"{what} {moment!r} is not a time: send seconds since 1970 as a finite number"
            f" from 0 to {limits.TIMESTAMP_MAX}",
            value=str(moment),
        )


def check_process(host: str, pid: int, pid_started_at: float) -> None:
    if not isinstance(host, str) or not host or len(host) > limits.HOST_NAME_MAX:
        raise InvalidValue(
            f"invalid host {str(host)[:80]!r}: use 1–{limits.HOST_NAME_MAX} characters",
            host=str(host)[:80],
        )
    if isinstance(pid, bool) or not isinstance(pid, int) or not 1 <= pid <= limits.PID_MAX:
        raise InvalidValue(
            f"invalid process id {pid!r}: use the process's pid, from 1 to {limits.PID_MAX}",
            pid=str(pid),
        )
    check_timestamp("process start time", pid_started_at)


def bounded_error(error: str | None) -> str | None:
    """A run's failure reason within RUN_ERROR_MAX: its start and its end (the log's last
    lines) are what explain a failure, so the middle goes."""
    if error is None or len(error) <= limits.RUN_ERROR_MAX:
        return error
    marker = f"\n… {len(error) - limits.RUN_ERROR_MAX} characters left out …\n"
    keep = (limits.RUN_ERROR_MAX - len(marker)) // 2
    return error[:keep] + marker + error[-keep:]


def check_batch(
    metrics: Sequence[Metric],
    params: Mapping[str, str] | None,
    tags: Mapping[str, str] | None,
) -> None:
    _check_count("metrics", len(metrics), limits.METRICS_PER_BATCH_MAX)
    _check_count("params", len(params or {}), limits.PARAMS_PER_BATCH_MAX)
    _check_count("tags", len(tags or {}), limits.TAGS_PER_BATCH_MAX)
    _check_metrics(metrics)
    check_pairs("param", params or {}, limits.PARAM_KEY_MAX, limits.PARAM_VALUE_MAX)
    check_pairs("tag", tags or {}, limits.TAG_KEY_MAX, limits.TAG_VALUE_MAX)


def _check_metrics(metrics: Sequence[Metric]) -> None:
    """Each point as `check_metric` and `check_timestamp` would judge it, in a fraction of
    their time: a batch of 1,000 points repeats a few names, so each name is checked once, and
    a point of plain float value, int step and float time within bounds passes on a few
    comparisons; anything else goes through the full checks, which say what is wrong."""
    names_seen: set[str] = set()
    for metric in metrics:
        name, value, step, moment = metric.name, metric.value, metric.step, metric.timestamp
        if type(name) is not str or name not in names_seen:  # (an unhashable name fails here)
            _check_key("metric name", name, limits.METRIC_NAME_MAX)
            names_seen.add(name)
        if not (
            type(value) is float  # NaN and infinities are values worth logging
            and type(step) is int
            and 0 <= step <= limits.STEP_MAX
            and type(moment) is float
            and 0 <= moment <= limits.TIMESTAMP_MAX  # False for NaN
        ):
            check_metric(name, value, step)
            check_timestamp(f"metric {name!r} timestamp", moment)


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


def refuse_unknown_fields(where: str, data: Mapping[str, Any], known: Iterable[str]) -> None:
    """One line naming the first field of a file's mapping `data` not in `known`
    (`where`: "job file F", "limits")."""
    names = sorted(known)
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise InvalidValue(
            f"{where} has unknown field {unknown[0]!r}: use one of {', '.join(names)}",
            field=unknown[0],
        )
