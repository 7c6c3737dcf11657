"""What a replica of a deployment may use of this host: `--cpu-cores` and `--memory-gb`.

CPUs: the replica pins itself to the CPUs its command line names (`--cpus`, chosen by the
service so that a deployment's replicas spread over the host) and sizes the usual numeric
libraries' thread pools to them, before anything that reads those variables is imported.
onnxruntime sizes its own pool from the affinity (`image_model.py`).

Memory: the same watch a sized job has (`compute/local/memory_watch.py`; a cgroup is not there for a
plain user): a replica whose process tree uses more than `--memory-gb` logs one line and is
killed, and its endpoint's supervisor starts it again (with a growing wait if it keeps dying).
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Collection, Sequence

from modelyard.compute.local.memory_watch import MemoryWatch
from modelyard.compute.local.resources import (
    GIB,
    THREAD_COUNT_VARIABLES,
    choose_cpus,
    format_gib,
)

_log = logging.getLogger("modelyard.serving")


def replica_cpus(cpu_cores: float, index: int, host_cpus: Sequence[int]) -> tuple[int, ...] | None:
    """The CPUs replica `index` of a deployment with `cpu_cores` each is pinned to, or None when
    it may use the whole host. Replicas take the least used CPUs in turn (0 then 1 on a 2-CPU
    host for 1 core each): the same answer every time, so a restarted replica lands where its
    first start did."""
    count = math.ceil(cpu_cores)
    if count >= len(host_cpus):
        return None
    taken: list[Collection[int]] = []
    for _ in range(index + 1):
        taken.append(choose_cpus(count, host_cpus, taken))
    return tuple(taken[-1])


def pin_to_cpus(cpus: Collection[int]) -> None:
    """Run on `cpus`, with thread pools that size; a set the system refuses is logged and the
    replica runs unpinned rather than not at all."""
    for name in THREAD_COUNT_VARIABLES:
        os.environ[name] = str(len(cpus))
    if not hasattr(os, "sched_setaffinity"):
        return
    try:
        os.sched_setaffinity(0, set(cpus))
    except OSError as error:
        _log.warning("cannot pin the replica to CPUs %s: %s", sorted(cpus), error)


def watch_memory(memory_gb: float) -> MemoryWatch:
    """Kills this replica (and what it started) once it uses more than `memory_gb`."""
    limit = int(memory_gb * GIB)

    def say_why(used: int, _limit: int) -> str:
        return (
            f"the replica used {format_gib(used)} GiB, more than its {format_gib(limit)} GiB"
            " (--memory-gb): deploy it with a larger --memory-gb"
        )

    def before_kill(message: str) -> None:
        _log.error("%s", message)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()

    return MemoryWatch(os.getpid(), limit, "", describe=say_why, before_kill=before_kill).start()
