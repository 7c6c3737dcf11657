"""The live log stream: chunks as the log grows, a resumable offset, an end once the run ended."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from modelyard.entities import RunStatus
from modelyard.errors import NotFound, UnsafePath
from modelyard.services import log_stream
from modelyard.services.log_stream import LogChunk, LogEnd, LogEvent
from modelyard.services.run_files import STD_LOG
from modelyard.services.workspaces import OpenWorkspace


def _running_run(ws: OpenWorkspace) -> str:
    run = ws.store.create_run("logs", user="ana", status=RunStatus.QUEUED)
    ws.store.transition_run(run.id, RunStatus.RUNNING)
    return run.id


def _append(ws: OpenWorkspace, run_id: str, text: str) -> None:
    log_file = ws.artifacts.run_root(run_id) / STD_LOG
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a", encoding="utf-8") as handle:
        handle.write(text)


def _collect(ws: OpenWorkspace, run_id: str, offset: int = 0) -> list[LogEvent]:
    async def gather() -> list[LogEvent]:
        stream = log_stream.open_log_stream(ws, run_id, STD_LOG, offset)
        return [event async for event in stream]

    return asyncio.run(asyncio.wait_for(gather(), timeout=30))


def test_follows_a_growing_log_until_the_run_ends(sqlite_workspace: OpenWorkspace) -> None:
    ws = sqlite_workspace
    run_id = _running_run(ws)
    _append(ws, run_id, "epoch 0\n")

    def job() -> None:
        for epoch in (1, 2):
            time.sleep(0.7)
            _append(ws, run_id, f"epoch {epoch}\n")
        time.sleep(0.3)
        ws.store.transition_run(run_id, RunStatus.COMPLETED)

    writer = threading.Thread(target=job)
    writer.start()
    events = _collect(ws, run_id)
    writer.join()

    chunks = [event for event in events if isinstance(event, LogChunk)]
    assert "".join(chunk.text for chunk in chunks) == "epoch 0\nepoch 1\nepoch 2\n"
    assert len(chunks) >= 2, "the stream delivered the log as it grew, not only at the end"
    assert events[-1] == LogEnd(RunStatus.COMPLETED, len("epoch 0\nepoch 1\nepoch 2\n"))


def test_resumes_from_an_offset_and_drains_a_finished_run(sqlite_workspace: OpenWorkspace) -> None:
    ws = sqlite_workspace
    run_id = _running_run(ws)
    _append(ws, run_id, "first\nsecond\n")
    ws.store.transition_run(run_id, RunStatus.FAILED, error="boom")
    events = _collect(ws, run_id, offset=len("first\n"))
    assert events == [LogChunk("second\n", 13), LogEnd(RunStatus.FAILED, 13)]


def test_a_log_larger_than_one_chunk_arrives_whole_in_order(
    sqlite_workspace: OpenWorkspace,
) -> None:
    ws = sqlite_workspace
    run_id = _running_run(ws)
    text = "".join(f"line {i} é\n" for i in range(60_000))  # ~700 KB, several chunks
    _append(ws, run_id, text)
    ws.store.transition_run(run_id, RunStatus.COMPLETED)
    events = _collect(ws, run_id)
    chunks = [event for event in events if isinstance(event, LogChunk)]
    assert len(chunks) > 1
    assert "".join(chunk.text for chunk in chunks) == text


def test_unknown_run_and_unsafe_path_fail_before_streaming(
    sqlite_workspace: OpenWorkspace, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    with pytest.raises(NotFound):
        log_stream.open_log_stream(ws, "no-such-run", STD_LOG, 0)
    run_id = _running_run(ws)
    with pytest.raises(UnsafePath):
        log_stream.open_log_stream(ws, run_id, "../../modelyard.db", 0)
