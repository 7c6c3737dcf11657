"""What the scheduler decides over and what it decides: plain records, so the decision is a pure
function (services/scheduling) and the store applies it in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from modelyard.entities.compute import ComputeTarget
from modelyard.entities.records import Run


@dataclass(frozen=True)
class SchedulingState:
    """The queue as one transaction sees it: every compute, every queued run (oldest place in
    the queue first) and every run that holds a node."""

    computes: dict[str, ComputeTarget]
    queued: list[Run]
    holding: list[Run]


@dataclass(frozen=True)
class SchedulingPlan:
    admit: list[str] = field(default_factory=list)
    # run id → why it is preempted (a low-priority run that must make room)
    preempt: dict[str, str] = field(default_factory=dict)
    # run id → why it still waits; written to the run for `run show` and the portal
    waiting: dict[str, str] = field(default_factory=dict)
    # run id → why it can never run (its compute failed or is gone)
    fail: dict[str, str] = field(default_factory=dict)

    @property
    def changes_anything(self) -> bool:
        return bool(self.admit or self.preempt or self.fail)
