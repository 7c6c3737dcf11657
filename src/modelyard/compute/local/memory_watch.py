"""The memory limit of a job on a sized local compute, and of a deployment's replica
(`serving/limits.py`): a watch over a process tree.

The kernel's own limits do not fit here: RLIMIT_AS counts address space, not memory, and
PyTorch or CUDA reserve far more address space than they ever use, so a limit there breaks
them; a cgroup's memory.max is the right tool, but creating one needs a delegated cgroup v2
tree, which a plain user (or a container like these hosts) does not have. So the supervisor
measures what the job's processes use, twice a second, and kills the whole tree once it is more
than the size allows; the run fails with one line naming what it used, the size and the remedy.
Between two looks a job can grow past the limit by what it allocates in that time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import psutil

from modelyard.compute.local.processes import tree_memory_bytes
from modelyard.compute.local.resources import memory_exceeded_message

POLL_INTERVAL_S = 0.5


class MemoryWatch:
    """Kills `pid`'s process tree when it uses more than `limit_bytes`; `exceeded` then says
    why, in the words a run fails with."""

    def __init__(
        self,
        pid: int,
        limit_bytes: int,
        size: str,
        interval_s: float = POLL_INTERVAL_S,
        describe: Callable[[int, int], str] | None = None,
        before_kill: Callable[[str], None] | None = None,
    ) -> None:
        """`describe(used, limit)` words the reason (a run's, naming `size`, by default);
        `before_kill(reason)` runs first, for a process that watches itself and would not
        live to say it."""
        self.limit_bytes = limit_bytes
        self.size = size
        self.interval_s = interval_s
        self._describe = describe or (
            lambda used, limit: memory_exceeded_message(self.size, used, limit)
        )
        self._before_kill = before_kill
        self.exceeded: str | None = None
        self._root = psutil.Process(pid)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="memory-watch", daemon=True)

    def start(self) -> MemoryWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stopped.wait(self.interval_s):
            try:
                used = tree_memory_bytes(self._root)
            except psutil.Error:
                return  # the job has ended
            if used > self.limit_bytes:
                self.exceeded = self._describe(used, self.limit_bytes)
                if self._before_kill is not None:
                    self._before_kill(self.exceeded)
                self._kill_tree()
                return

    def _kill_tree(self) -> None:
        """SIGKILL at once, children first so none is left to re-parent: a job over its
        memory is no job to wait for, and every second it goes on takes from the host."""
        with contextlib.suppress(psutil.Error):
            for process in [*self._root.children(recursive=True), self._root]:
                with contextlib.suppress(psutil.Error):
                    process.kill()
