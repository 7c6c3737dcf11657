"""Give memory back to the system after a burst of requests.

Every worker thread that allocates gets a glibc malloc arena of its own, and glibc returns freed
memory to the system by itself only from the top of the main heap: after rounds of 200
concurrent requests the server kept hundreds of MiB it no longer used. Two levers, both glibc's
(elsewhere each is a no-op):
- `limit_malloc_arenas`: at most a few arenas, set before the worker threads exist;
- `ReturnMemoryWhenIdle`: `malloc_trim(0)` once the server has been quiet for a moment after
  serving requests, off the event loop.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import anyio.to_thread

log = logging.getLogger(__name__)

M_ARENA_MAX: Final = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS: Final = 2
QUIET_S: Final = 2.0  # how long without a request counts as "the burst is over"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def _glibc() -> Any | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    has_both = hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim")
    return libc if has_both else None


_LIBC = _glibc()


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's arenas (as MALLOC_ARENA_MAX would); True if glibc took it."""
    return _LIBC is not None and bool(_LIBC.mallopt(M_ARENA_MAX, arenas))


def trim_memory() -> bool:
    """Return the free memory glibc holds to the system; True if any was returned."""
    return _LIBC is not None and bool(_LIBC.malloc_trim(0))


class ReturnMemoryWhenIdle:
    """Pure ASGI middleware: once no request has started for `quiet_s` after one ended, trim
    the heap (long-lived requests such as live log streams do not hold it off)."""

    def __init__(self, app: ASGIApp, quiet_s: float = QUIET_S) -> None:
        self.app = app
        self.quiet_s = quiet_s
        self._generation = 0  # bumped by every request: a pending trim sees it was not quiet
        self._trim_pending = False
        self._task: asyncio.Task[None] | None = None  # kept: the loop holds tasks weakly

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or _LIBC is None:
            await self.app(scope, receive, send)
            return
        self._generation += 1
        try:
            await self.app(scope, receive, send)
        finally:
            if not self._trim_pending:
                self._trim_pending = True
                self._task = asyncio.get_running_loop().create_task(self._trim_when_quiet())

    async def _trim_when_quiet(self) -> None:
        try:
            while True:
                seen = self._generation
                await asyncio.sleep(self.quiet_s)
                if seen == self._generation:
                    break
            await anyio.to_thread.run_sync(trim_memory)
        except Exception as error:  # a trim is a courtesy: never let it break serving
            log.debug("malloc_trim after a burst failed: %s", error)
        finally:
            self._trim_pending = False
