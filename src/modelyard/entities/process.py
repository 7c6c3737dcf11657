"""A process on some host, as a run records it: the local backend's handle and an interactive
run's owner. The store keeps it as an opaque string, like every backend's handle."""

from __future__ import annotations

from dataclasses import dataclass

from modelyard.errors import InvalidValue


@dataclass(frozen=True)
class ProcessHandle:
    """How to find a local run's process again: pid plus its start time, which pids don't repeat.
    Stored as an opaque string (`to_string`), as every backend's handle is."""

    host: str
    pid: int
    started_at: float

    def to_string(self) -> str:
        return f"pid:{self.pid}@{self.host}/{self.started_at!r}"

    @classmethod
    def parse(cls, handle: str) -> ProcessHandle:
        try:
            kind, rest = handle.split(":", 1)
            pid, rest = rest.split("@", 1)
            host, started_at = rest.rsplit("/", 1)
            if kind != "pid":
                raise ValueError(kind)
            return cls(host=host, pid=int(pid), started_at=float(started_at))
        except ValueError:
            raise InvalidValue(
                f"process handle {handle!r} is not pid:PID@HOST/START_TIME", handle=handle
            ) from None
