"""Where a deployment's replicas may run: their share of the host's CPUs."""

from __future__ import annotations

import pytest

from modelyard.serving.limits import replica_cpus


@pytest.mark.parametrize(
    ("cores", "index", "cpus"),
    [
        (1.0, 0, (0,)),
        (1.0, 1, (1,)),
        (1.0, 2, (2,)),
        (1.0, 4, (0,)),  # a fifth replica shares the least used again
        (0.5, 1, (1,)),  # a fraction takes a whole CPU to pin to
        (2.0, 1, (2, 3)),
        (1.5, 0, (0, 1)),
    ],
)
def test_replicas_spread_over_the_host_by_their_index(
    cores: float, index: int, cpus: tuple[int, ...]
) -> None:
    assert replica_cpus(cores, index, [0, 1, 2, 3]) == cpus


def test_a_replica_as_large_as_the_host_is_not_pinned() -> None:
    assert replica_cpus(4.0, 0, [0, 1, 2, 3]) is None
    assert replica_cpus(8.0, 3, [0, 1, 2, 3]) is None
