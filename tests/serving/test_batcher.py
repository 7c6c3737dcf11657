"""AdaptiveBatcher: concurrent submits share handler calls, each gets its own answer or error."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from modelyard.serving.batcher import AdaptiveBatcher, BatcherClosed


class Recorder:
    """A handler that doubles numbers, remembers its batches, and refuses negative numbers."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[str] = set()

    def __call__(self, items: list[int]) -> Sequence[int | BaseException]:
        self.batches.append(list(items))
        self.threads.add(threading.current_thread().name)
        return [item * 2 if item >= 0 else ValueError(f"negative {item}") for item in items]


async def _submit_all(batcher: AdaptiveBatcher[int, int], items: list[int]) -> list[object]:
    try:
        return await asyncio.gather(*(batcher.submit(i) for i in items), return_exceptions=True)
    finally:
        await batcher.close()


def test_concurrent_items_are_handled_together_and_answered_in_their_own_order() -> None:
    handler = Recorder()
    batcher = AdaptiveBatcher(handler, max_batch_size=64, max_wait_s=0.05)
    results = asyncio.run(_submit_all(batcher, list(range(10))))
    assert results == [i * 2 for i in range(10)]
    assert handler.batches == [list(range(10))]
    assert threading.main_thread().name not in handler.threads  # the loop's thread stays free


def test_a_batch_never_exceeds_the_maximum_size() -> None:
    handler = Recorder()
    batcher = AdaptiveBatcher(handler, max_batch_size=4, max_wait_s=0.05)
    results = asyncio.run(_submit_all(batcher, list(range(10))))
    assert results == [i * 2 for i in range(10)]
    assert handler.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_a_lone_item_is_answered_after_the_wait_bound_without_a_full_batch() -> None:
    handler = Recorder()
    batcher = AdaptiveBatcher(handler, max_batch_size=1000, max_wait_s=0.02)
    assert asyncio.run(_submit_all(batcher, [21])) == [42]
    assert handler.batches == [[21]]


def test_without_a_wait_items_still_queued_together_go_together() -> None:
    handler = Recorder()
    batcher = AdaptiveBatcher(handler, max_batch_size=8, max_wait_s=0)
    assert asyncio.run(_submit_all(batcher, [1, 2, 3])) == [2, 4, 6]
    assert handler.batches == [[1, 2, 3]]


def test_one_items_error_is_its_own() -> None:
    handler = Recorder()
    batcher = AdaptiveBatcher(handler, max_batch_size=8, max_wait_s=0.01)
    results = asyncio.run(_submit_all(batcher, [1, -1, 3]))
    assert results[0] == 2 and results[2] == 6
    assert isinstance(results[1], ValueError) and str(results[1]) == "negative -1"


def test_a_handler_that_raises_for_the_batch_is_retried_item_by_item() -> None:
    calls: list[list[str]] = []

    def fragile(items: list[str]) -> list[str]:
        calls.append(list(items))
        if "poison" in items:
            raise RuntimeError("poisoned batch")
        return [item.upper() for item in items]

    batcher: AdaptiveBatcher[str, str] = AdaptiveBatcher(fragile, max_wait_s=0.01)

    async def scenario() -> list[object]:
        try:
            submits = (batcher.submit(item) for item in ["a", "poison", "b"])
            return await asyncio.gather(*submits, return_exceptions=True)
        finally:
            await batcher.close()

    results = asyncio.run(scenario())
    assert results[0] == "A" and results[2] == "B"
    assert isinstance(results[1], RuntimeError) and str(results[1]) == "poisoned batch"
    assert calls == [["a", "poison", "b"], ["a"], ["poison"], ["b"]]


def test_items_that_arrive_while_a_batch_runs_form_the_next_batch() -> None:
    release = threading.Event()
    batches: list[list[int]] = []

    def slow(items: list[int]) -> list[int]:
        batches.append(list(items))
        if items == [0]:
            release.wait(timeout=30)  # holds the first batch until the others queued
        return items

    batcher: AdaptiveBatcher[int, int] = AdaptiveBatcher(slow, max_batch_size=16, max_wait_s=0)

    async def scenario() -> list[int]:
        first = asyncio.ensure_future(batcher.submit(0))
        while not batches:
            await asyncio.sleep(0.001)
        rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(1, 6)]
        await asyncio.sleep(0.01)
        release.set()
        try:
            return list(await asyncio.gather(first, *rest))
        finally:
            await batcher.close()

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4, 5]
    assert batches == [[0], [1, 2, 3, 4, 5]]


def test_a_closed_batcher_refuses_new_items() -> None:
    batcher = AdaptiveBatcher(Recorder())

    async def scenario() -> None:
        await batcher.close()
        await batcher.submit(1)

    with pytest.raises(BatcherClosed):
        asyncio.run(scenario())


def test_sizes_are_checked() -> None:
    with pytest.raises(ValueError):
        AdaptiveBatcher(Recorder(), max_batch_size=0)
