"""Resuming an ended run (a sweep whose driver stopped): only a Failed or Canceled one comes
back, queued as its next attempt, with its end and error cleared and the ended attempt kept.
No transition does this: the lifecycle's ended states still have no way out."""

from __future__ import annotations

import pytest

from modelyard.entities import RunStatus
from modelyard.errors import InvalidTransition
from modelyard.services.workspaces import OpenWorkspace


@pytest.mark.parametrize("ending", [RunStatus.FAILED, RunStatus.CANCELED])
def test_an_ended_run_is_resumed_as_its_next_attempt(
    workspace: OpenWorkspace, ending: RunStatus
) -> None:
    run = workspace.store.create_run("e", user="u", compute_target="local")
    workspace.store.transition_run(run.id, RunStatus.QUEUED)
    workspace.store.transition_run(run.id, RunStatus.RUNNING)
    error = "exited with code -9" if ending is RunStatus.FAILED else None
    ended = workspace.store.transition_run(run.id, ending, error=error)
    assert ended.ended_at is not None

    resumed = workspace.compute_store.resume_run(run.id, "resumed by the user")
    assert resumed.status is RunStatus.QUEUED and resumed.attempt == 2
    assert resumed.ended_at is None and resumed.error is None and resumed.handle is None
    assert resumed.status_detail == "resumed after attempt 1: resumed by the user"
    assert resumed.started_at == ended.started_at  # the sweep's clock keeps its first start
    [attempt] = workspace.compute_store.list_attempts(run.id)
    assert (attempt.attempt, attempt.outcome, attempt.cause) == (1, ending, "resumed by the user")


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.RUNNING])
def test_only_a_failed_or_canceled_run_is_resumed(
    workspace: OpenWorkspace, status: RunStatus
) -> None:
    run = workspace.store.create_run("e", user="u", status=RunStatus.RUNNING)
    if status is RunStatus.COMPLETED:
        run = workspace.store.transition_run(run.id, RunStatus.COMPLETED)
    with pytest.raises(InvalidTransition, match="only a Failed or Canceled run can be resumed"):
        workspace.compute_store.resume_run(run.id, "again")
    assert workspace.store.get_run(run.id).status is run.status
    assert not RunStatus.COMPLETED.is_resumable and RunStatus.FAILED.is_resumable
