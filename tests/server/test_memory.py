"""The server gives memory back after a burst (issue 11, point 10): glibc's arenas capped, and
the heap trimmed once requests stop. RSS figures under the review's load are measured by
benchmarks/server.py; here, that the mechanism fires when it should and only then."""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.server import create_app, memory
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from server.serving import serve

glibc_only = pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc", reason="malloc_trim and M_ARENA_MAX are glibc's"
)


@pytest.fixture
def trims(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """When the server trimmed its heap (the real trim runs too)."""
    moments: list[float] = []
    real = memory.trim_memory

    def recorded() -> bool:
        moments.append(time.monotonic())
        return real()

    monkeypatch.setattr(memory, "trim_memory", recorded)
    return moments


@pytest.fixture
def base(tmp_path: Path) -> Iterator[str]:
    ws: OpenWorkspace = create_workspace("mem-ws", path=tmp_path / "ws")
    try:
        with serve(create_app(ws, auth=False)) as url:
            yield url
    finally:
        ws.close()


@glibc_only
def test_glibc_takes_the_arena_cap_and_the_trim() -> None:
    assert memory.limit_malloc_arenas() is True
    assert isinstance(memory.trim_memory(), bool)


@glibc_only
def test_the_heap_is_trimmed_once_a_burst_is_over_and_not_during_it(
    base: str, trims: list[float]
) -> None:
    def burst() -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(20):
                assert client.get(f"{base}/api/v1/experiments").status_code == 200

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    # Requests keep coming for longer than the quiet period: no trim meanwhile.
    with httpx.Client(timeout=30) as client:
        until = time.monotonic() + memory.QUIET_S * 1.5
        while time.monotonic() < until:
            assert client.get(f"{base}/api/v1/workspace").status_code == 200
            time.sleep(0.2)
    for thread in threads:
        thread.join()
    last_request = time.monotonic()
    assert trims == []
    deadline = last_request + memory.QUIET_S * 4
    while not trims and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(trims) == 1 and trims[0] - last_request >= memory.QUIET_S * 0.9
