"""Adaptive batching: items submitted concurrently are handled together, in one call.

Each `submit(item)` waits for its own result. One collector task takes the items waiting, up
to `max_batch_size`, and runs the handler on them in a worker thread, so the event loop keeps
accepting requests meanwhile. A batch starts when it is full or when its oldest item has waited
`max_wait_s`; items that arrive while a batch runs form the next one, so under load the batches
grow by themselves and a lone request waits at most `max_wait_s`.

One item's failure is its own: the handler may return an exception in an item's place, and a
handler that raises for a whole batch is retried item by item, so only the culprit fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

BatchHandler = Callable[[list[Item]], Sequence["Result | BaseException"]]


class BatcherClosed(RuntimeError):
    """The batcher stopped before this item was handled."""


@dataclass
class _Waiting(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result]
    arrived: float


class AdaptiveBatcher(Generic[Item, Result]):
    """Gathers concurrent `submit` calls into calls of `handler(items) -> results`.

    The handler returns one result per item, in order (an exception instance fails that item
    alone). It runs in `executor`, one batch at a time: a dedicated thread unless one is given.
    `on_batch(size)` is told each batch's size, for metrics.
    """

    def __init__(
        self,
        handler: BatchHandler[Item, Result],
        *,
        max_batch_size: int = 32,
        max_wait_s: float = 0.003,
        executor: Executor | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if max_batch_size < 1 or max_wait_s < 0:
            raise ValueError("max_batch_size must be 1 or more and max_wait_s 0 or more")
        self._handler = handler
        self._max_batch_size = max_batch_size
        self._max_wait_s = max_wait_s
        self._executor = executor or ThreadPoolExecutor(1, thread_name_prefix="batcher")
        self._owns_executor = executor is None
        self._on_batch = on_batch
        self._waiting: deque[_Waiting[Item, Result]] = deque()
        self._arrived = asyncio.Event()
        self._collector: asyncio.Task[None] | None = None
        self._closed = False

    async def submit(self, item: Item) -> Result:
        """The handler's result for `item` (or its exception, raised here)."""
        if self._closed:
            raise BatcherClosed("the batcher is closed")
        loop = asyncio.get_running_loop()
        if self._collector is None:
            self._collector = loop.create_task(self._collect_forever())
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append(_Waiting(item, future, loop.time()))
        self._arrived.set()
        return await future

    async def close(self) -> None:
        """Stop collecting; items still waiting fail with BatcherClosed."""
        self._closed = True
        if self._collector is not None:
            self._collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._collector
        while self._waiting:
            _fail(self._waiting.popleft().future, BatcherClosed("the batcher is closed"))
        if self._owns_executor:
            self._executor.shutdown(wait=False)

    async def _collect_forever(self) -> None:
        while True:
            batch = await self._next_batch()
            if batch:
                await self._handle(batch)

    async def _next_batch(self) -> list[_Waiting[Item, Result]]:
        while not self._waiting:
            self._arrived.clear()
            await self._arrived.wait()
        loop = asyncio.get_running_loop()
        # The oldest item's arrival starts the clock: items that queued while the last batch
        # ran have waited already, and go at once.
        deadline = self._waiting[0].arrived + self._max_wait_s
        while len(self._waiting) < self._max_batch_size and loop.time() < deadline:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), deadline - loop.time())
        taken = [self._waiting.popleft() for _ in range(self._count_to_take())]
        return [waiting for waiting in taken if not waiting.future.done()]  # drop the abandoned

    def _count_to_take(self) -> int:
        return min(len(self._waiting), self._max_batch_size)

    async def _handle(self, batch: list[_Waiting[Item, Result]]) -> None:
        if self._on_batch is not None:
            self._on_batch(len(batch))
        loop = asyncio.get_running_loop()
        items = [waiting.item for waiting in batch]
        try:
            results = await loop.run_in_executor(self._executor, self._handle_in_thread, items)
        except Exception as error:  # the handler's own failure, reported to each item
            results = [error] * len(batch)
        for waiting, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                _fail(waiting.future, result)
            elif not waiting.future.done():
                waiting.future.set_result(result)

    def _handle_in_thread(self, items: list[Item]) -> list[Result | BaseException]:
        try:
            return self._checked(items, self._handler(items))
        except Exception as error:
            if len(items) == 1:
                return [error]
        # The whole batch failed: one item alone at a time, so only the culprit fails.
        return [result for item in items for result in self._handle_in_thread([item])]

    @staticmethod
    def _checked(
        items: list[Item], results: Sequence[Result | BaseException]
    ) -> list[Result | BaseException]:
        if len(results) != len(items):
            raise RuntimeError(f"the handler returned {len(results)} results for {len(items)}")
        return list(results)


def _fail(future: asyncio.Future[Result], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
