"""The run lifecycle: states and their allowed transitions, defined once."""

from __future__ import annotations

from enum import StrEnum

from modelyard.errors import InvalidTransition, RunEnded


class RunStatus(StrEnum):
    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    STARTING = "Starting"  # admitted by the scheduler; its compute is launching it
    PREPARING = "Preparing"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    NOT_RESPONDING = "NotResponding"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"
    # A low-priority job stopped to make room (or on demand): it goes back to Queued once its
    # process is gone, and its next attempt resumes from its checkpoints.
    PREEMPTED = "Preempted"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def holds_node(self) -> bool:
        """The run occupies one of its compute's nodes (admitted and not yet ended)."""
        return self in _HOLDING_NODE

    @property
    def is_active(self) -> bool:
        """A process is (or should be) working on the run: heartbeats are expected."""
        return self in _ACTIVE

    @property
    def is_resumable(self) -> bool:
        """An ended run that may start again as its next attempt, by an explicit resume only
        (`ComputeStore.resume_run`: a sweep whose driver died or was stopped, its trials kept;
        an AutoML run, its finished model families kept), never by a transition: no
        transition leaves an ended state."""
        return self in _RESUMABLE

    def can_become(self, target: RunStatus) -> bool:
        return target in ALLOWED_TRANSITIONS[self]

    def check_transition(self, target: RunStatus, run_id: str = "") -> None:
        if not self.can_become(target):
            allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[self])) or "none"
            raise InvalidTransition(
                f"run {run_id or '?'} cannot go from {self.value} to {target.value}:"
                f" from {self.value} it may only become {allowed}",
                run_id=run_id,
                current=self.value,
                target=target.value,
            )

    def check_accepts_data(self, run_id: str, what: str = "data") -> None:
        """An ended run is a record: what its job produces (metrics, params, properties,
        artifacts, heartbeats) is refused, so a process left behind cannot rewrite it."""
        if self.is_terminal:
            raise RunEnded(
                f"run {run_id} has already ended ({self.value}) and takes no more {what}:"
                " stop the process still writing to it; log to a new run instead",
                run_id=run_id,
                status=self.value,
            )


class ResumableJob(StrEnum):
    """The built-in jobs an explicit resume queues again (`services/resume.py`): each carries
    on from what its earlier attempts recorded."""

    SWEEP = "sweep"
    AUTOML = "automl"
    PIPELINE = "pipeline"


_TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})
_ACTIVE = frozenset(
    {
        RunStatus.PREPARING,
        RunStatus.RUNNING,
        RunStatus.FINALIZING,
        RunStatus.CANCEL_REQUESTED,
        RunStatus.NOT_RESPONDING,
        RunStatus.PREEMPTED,  # its process is stopping, and heartbeats until it has
    }
)

_RESUMABLE = frozenset({RunStatus.FAILED, RunStatus.CANCELED})

_HOLDING_NODE = frozenset({RunStatus.STARTING, RunStatus.PREEMPTED, *_ACTIVE})

_ENDINGS = {RunStatus.FAILED, RunStatus.CANCELED}

ALLOWED_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.NOT_STARTED: frozenset(
        {RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.CANCEL_REQUESTED, *_ENDINGS}
    ),
    RunStatus.QUEUED: frozenset(
        {
            RunStatus.STARTING,
            RunStatus.PREPARING,
            RunStatus.RUNNING,
            RunStatus.CANCEL_REQUESTED,
            *_ENDINGS,
        }
    ),
    # Back to Queued when a launch was lost (the scheduling process died mid-pass).
    RunStatus.STARTING: frozenset(
        {
            RunStatus.QUEUED,
            RunStatus.PREPARING,
            RunStatus.RUNNING,
            RunStatus.CANCEL_REQUESTED,
            *_ENDINGS,
        }
    ),
    RunStatus.PREPARING: frozenset(
        {
            RunStatus.RUNNING,
            RunStatus.CANCEL_REQUESTED,
            RunStatus.NOT_RESPONDING,
            RunStatus.PREEMPTED,
            *_ENDINGS,
        }
    ),
    RunStatus.RUNNING: frozenset(
        {
            RunStatus.FINALIZING,
            RunStatus.COMPLETED,
            RunStatus.CANCEL_REQUESTED,
            RunStatus.NOT_RESPONDING,
            RunStatus.PREEMPTED,
            *_ENDINGS,
        }
    ),
    RunStatus.FINALIZING: frozenset(
        {RunStatus.COMPLETED, RunStatus.NOT_RESPONDING, RunStatus.CANCEL_REQUESTED, *_ENDINGS}
    ),
    RunStatus.CANCEL_REQUESTED: frozenset({RunStatus.CANCELED, RunStatus.FAILED}),
    # A late heartbeat or a job that finishes after a stall proves the process is alive.
    RunStatus.NOT_RESPONDING: frozenset(
        {
            RunStatus.RUNNING,
            RunStatus.FINALIZING,
            RunStatus.COMPLETED,
            RunStatus.CANCEL_REQUESTED,
            RunStatus.PREEMPTED,
            *_ENDINGS,
        }
    ),
    # Its process finished the job before it stopped (Completed), or it is gone (Queued again).
    RunStatus.PREEMPTED: frozenset(
        {RunStatus.QUEUED, RunStatus.COMPLETED, RunStatus.CANCEL_REQUESTED, *_ENDINGS}
    ),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELED: frozenset(),
}
