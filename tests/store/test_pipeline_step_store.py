"""The pipeline store (migration 0015): a step run's reuse key found by one indexed lookup
only when that run completed and ran (not reused), and the latest record of a step in a
pipeline, from another pipeline run, to say what changed."""

from __future__ import annotations

from modelyard.entities import RunStatus
from modelyard.entities.pipelines import ReuseKey, StepRecord
from modelyard.services.workspaces import OpenWorkspace

KEY = ReuseKey("code", "env", {"command": "python a.py"}, {"raw": "h1"})
CHANGED = ReuseKey("code", "env", {"command": "python a.py"}, {"raw": "h2"})


def record(
    ws: OpenWorkspace, key: ReuseKey, status: RunStatus, reused_from: str | None = None
) -> StepRecord:
    store = ws.store
    parent = store.create_run("pipe", user="ana")
    child = store.create_run("pipe", user="ana", parent_id=parent.id, display_name="prep")
    store.transition_run(child.id, RunStatus.RUNNING)
    store.transition_run(child.id, status)
    store.transition_run(parent.id, RunStatus.CANCELED)
    entry = StepRecord(child.id, parent.id, "pipe", "etl", "prep", key, reused_from, "why")
    ws.pipeline_store.record_pipeline_step(entry)
    ws.pipeline_store.record_pipeline_step(entry)  # again, as a resumed driver may: kept once
    return entry


def test_only_a_completed_run_that_ran_is_reused_and_the_latest_is_compared(
    workspace: OpenWorkspace,
) -> None:
    store = workspace.pipeline_store
    assert store.find_reusable_step(KEY.digest) is None
    failed = record(workspace, KEY, RunStatus.FAILED)
    assert store.find_reusable_step(KEY.digest) is None
    completed = record(workspace, KEY, RunStatus.COMPLETED)
    reused = record(workspace, KEY, RunStatus.COMPLETED, reused_from=completed.run_id)
    found = store.find_reusable_step(KEY.digest)
    assert found is not None and found.run_id == completed.run_id
    assert (found.key, found.experiment, found.pipeline, found.step) == (KEY, "pipe", "etl", "prep")

    latest = record(workspace, CHANGED, RunStatus.COMPLETED)
    before = store.latest_pipeline_step("pipe", "etl", "prep", latest.pipeline_run_id)
    assert before is not None and before.run_id == reused.run_id
    assert before.reused_from == completed.run_id
    assert store.latest_pipeline_step("pipe", "other", "prep", latest.pipeline_run_id) is None
    assert [r.run_id for r in store.list_pipeline_steps(failed.pipeline_run_id)] == [failed.run_id]

    workspace.store.delete_experiment("pipe")  # its runs and their records go with it
    assert store.find_reusable_step(CHANGED.digest) is None
