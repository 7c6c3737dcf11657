"""The chart downsampler: at most `max_points`, every extreme and the order kept."""

from __future__ import annotations

import math
import random

import pytest

from modelyard.services.downsample import DEFAULT_MAX_POINTS, min_max_downsample


def _noisy(count: int, seed: int = 0) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    return [(step, math.sin(step / 500) + rng.gauss(0, 0.1)) for step in range(count)]


def test_a_series_that_fits_is_returned_unchanged() -> None:
    points = _noisy(DEFAULT_MAX_POINTS)
    assert min_max_downsample(points) == points
    assert min_max_downsample([]) == []


@pytest.mark.parametrize("count", [2001, 2002, 4999, 100_000])
@pytest.mark.parametrize("max_points", [4, 5, 101, 2000])
def test_never_more_than_max_points_and_ends_kept(count: int, max_points: int) -> None:
    points = _noisy(count, seed=count)
    thinned = min_max_downsample(points, max_points)
    assert len(thinned) <= max_points
    assert thinned[0] == points[0] and thinned[-1] == points[-1]
    steps = [step for step, _ in thinned]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)
    assert set(thinned) <= set(points)


def test_spikes_survive_where_every_nth_point_would_lose_them() -> None:
    points = [(step, 0.0) for step in range(100_000)]
    points[31_337] = (31_337, 9.5)
    points[77_001] = (77_001, -4.0)
    thinned = min_max_downsample(points, 2000)
    assert (31_337, 9.5) in thinned and (77_001, -4.0) in thinned
    assert max(v for _, v in thinned) == 9.5 and min(v for _, v in thinned) == -4.0


def test_every_bucket_keeps_its_own_extremes() -> None:
    points = _noisy(50_000, seed=7)
    thinned = set(min_max_downsample(points, 1000))
    inner, buckets = points[1:-1], (1000 - 2) // 2
    for bucket in range(buckets):
        chunk = inner[bucket * len(inner) // buckets : (bucket + 1) * len(inner) // buckets]
        assert min(chunk, key=lambda p: p[1]) in thinned
        assert max(chunk, key=lambda p: p[1]) in thinned


def test_a_flat_series_keeps_one_point_per_bucket() -> None:
    thinned = min_max_downsample([(step, 1.0) for step in range(10_000)], 100)
    assert 50 <= len(thinned) <= 100


def test_too_few_points_allowed_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        min_max_downsample(_noisy(10), 3)
