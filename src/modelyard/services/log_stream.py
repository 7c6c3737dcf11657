"""A run's log as a live stream of chunks: what the portal's log tail and remote followers read.

`open_log_stream` checks the run and the path at once (so a bad request is an error before
anything is streamed), then yields chunks as the log grows, a keep-alive when nothing was written
for a while, and a last `LogEnd` once the run has ended and everything written is out. Reads run in
a worker thread: a slow disk never blocks the server's event loop, and one thread per viewer is
held only for the length of a read, not for the length of the stream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from modelyard.entities import RunStatus
from modelyard.services.jobs import log_file_of, read_text_from
from modelyard.services.runs import get_run
from modelyard.services.workspaces import OpenWorkspace

KEEP_ALIVE_S: Final = 15.0  # proxies close idle connections after 30-60 s
CHUNK_MAX_BYTES: Final = 256 * 1024


@dataclass(frozen=True)
class LogChunk:
    text: str
    offset: int  # where the next read starts: resume from here after a reconnect


@dataclass(frozen=True)
class KeepAlive:
    pass


@dataclass(frozen=True)
class LogEnd:
    status: RunStatus
    offset: int


LogEvent = LogChunk | KeepAlive | LogEnd


def open_log_stream(
    ws: OpenWorkspace, run_id: str, path: str, offset: int
) -> AsyncIterator[LogEvent]:
    """The stream of `path` in run `run_id` from byte `offset`; NotFound/UnsafePath raised now."""
    ws.store.get_run(run_id)
    log_file = log_file_of(ws, run_id, path)
    return _follow(ws, run_id, log_file, offset)


async def _follow(
    ws: OpenWorkspace, run_id: str, log_file: Path, offset: int
) -> AsyncIterator[LogEvent]:
    quiet_since = time.monotonic()
    while True:
        # The status is read before the log: a run seen ended has written all it will write.
        # Read through the reaper, so that a run whose process died ends the stream too.
        status = (await asyncio.to_thread(get_run, ws, run_id)).status
        drained = False
        while not drained:
            text, offset = await asyncio.to_thread(
                read_text_from, log_file, offset, CHUNK_MAX_BYTES
            )
            drained = not text
            if text:
                quiet_since = time.monotonic()
                yield LogChunk(text, offset)
        if status.is_terminal:
            yield LogEnd(status, offset)
            return
        if time.monotonic() - quiet_since >= KEEP_ALIVE_S:
            quiet_since = time.monotonic()
            yield KeepAlive()
        await asyncio.sleep(ws.settings.poll_interval_s)
