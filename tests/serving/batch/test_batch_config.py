"""The batch-scoring job's limits: Azure's error_threshold as a count or a share of the files."""

from __future__ import annotations

import pytest

from modelyard.errors import InvalidValue
from modelyard.serving.batch.config import BatchScoreConfig, ErrorThreshold


@pytest.mark.parametrize(
    ("text", "total", "allowed"),
    [("-1", 100, None), ("0", 100, 0), ("5", 3, 5), ("10%", 35, 3), ("0%", 9, 0), ("100%", 7, 7)],
)
def test_a_threshold_allows_a_count_or_a_share_of_the_files(
    text: str, total: int, allowed: int | None
) -> None:
    assert ErrorThreshold.parse(text).allowed(total) == allowed


@pytest.mark.parametrize("text", ["-2", "ten", "101%", "-1%", "nan%", ""])
def test_a_threshold_that_means_nothing_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        ErrorThreshold.parse(text)
    assert "--error-threshold" in caught.value.message and "\n" not in caught.value.message


def test_a_config_round_trips_and_checks_its_mini_batch_size() -> None:
    config = BatchScoreConfig("m", "m:1", "d", error_threshold="2%", mini_batch_size=8)
    assert BatchScoreConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InvalidValue, match="--mini-batch-size 0"):
        BatchScoreConfig("m", "m:1", "d", mini_batch_size=0).validated()
