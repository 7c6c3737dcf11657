"""Resuming a built-in job whose process died (kill -9, a lost machine) or that was canceled:
the run is queued again as its next attempt, and its job carries on from what the store and
the run's checkpoint folder hold. Two jobs know how to:

- a sweep: its driver rebuilds the search from the trials recorded (`services/sweeps/`), awaits
  the running ones and queues the rest; no trial runs twice;
- AutoML for tables: the trainer skips the model families an earlier attempt searched to the
  end (`tabular/train.py`); the family children its dead process left marked active are
  recorded Failed first, so only the new attempt's search of that family is running;
- AutoML for images: the same, candidate by candidate (`vision/automl.py`): a completed one is
  not trained again, a stopped one carries on from its last epoch's checkpoint;
- a pipeline: its driver reads the steps recorded (`services/pipelines/`), awaits the running
  ones and goes on from there; a completed step never runs again, a failed one runs again.

A workspace behind a server asks the server (`POST /runs/{id}/resume`), which calls this same
function next to the processes it can see. `modelyard sweep resume` names a sweep,
`modelyard run resume` any job of the two; the SDK's `HyperDriveRun.resume()` and
`AutoMLRun.resume()` the same.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Final

from modelyard.entities import ResumableJob, Run, RunStatus
from modelyard.errors import Conflict, InvalidTransition, InvalidValue, NotFound
from modelyard.services import scheduling
from modelyard.services.automl import AUTOML_MODULE, IMAGE_AUTOML_MODULE
from modelyard.services.jobs import read_job_spec
from modelyard.services.pipelines.pipeline_job import PIPELINE_MODULE
from modelyard.services.pipelines.submission import not_a_pipeline
from modelyard.services.runs import get_run, process_is_gone
from modelyard.services.sweeps.leaderboard import not_a_sweep
from modelyard.services.sweeps.sweep_job import SWEEP_MODULE
from modelyard.services.workspaces import OpenWorkspace


@dataclass(frozen=True)
class _Kind:
    modules: tuple[str, ...]  # the built-in jobs' modules, as a run's job definition names them
    noun: str
    worker: str  # what does its work while it runs
    start_anew: str  # what to do instead once it has completed
    settles_children: bool  # its children ran inside its own process (they died with it)


_KINDS: Final = {
    ResumableJob.SWEEP: _Kind(
        (SWEEP_MODULE,), "sweep", "driver", "submit a new sweep to try more", False
    ),
    ResumableJob.AUTOML: _Kind(
        (AUTOML_MODULE, IMAGE_AUTOML_MODULE),
        "AutoML run",
        "trainer",
        "run `modelyard automl` again (a larger --time-budget searches longer)",
        True,
    ),
    ResumableJob.PIPELINE: _Kind(
        (PIPELINE_MODULE,),
        "pipeline",
        "driver",
        "run it again with `modelyard pipeline rerun` (its unchanged steps are reused)",
        False,
    ),
}


def resume_job(ws: OpenWorkspace, run_id: str, expected: ResumableJob | None = None) -> Run:
    """Queue a sweep or an AutoML run that ended Failed or Canceled again, as its next attempt;
    `expected` refuses a run of another kind (`sweep resume` of an AutoML run)."""
    if ws.server_url is not None:
        return ws.rest_store.resume_run(run_id, None if expected is None else expected.value)
    kind = _KINDS[_kind_of(ws, run_id, expected)]
    run = _settled(ws, get_run(ws, run_id), "its job's process is gone without reporting an end")
    if run.status is RunStatus.COMPLETED:
        raise Conflict(
            f"{kind.noun} {run.id} has completed: nothing to resume; {kind.start_anew}",
            run_id=run.id,
        )
    if not run.status.is_resumable:
        raise Conflict(
            f"{kind.noun} {run.id} is {run.status.value}, its {kind.worker} still at work:"
            f" nothing to resume; follow it with `modelyard run logs {run.id} --follow`",
            run_id=run.id,
        )
    if kind.settles_children:
        _settle_children(ws, run)
    cause = run.error or f"the {kind.noun} was {run.status.value.lower()}"
    resumed = ws.compute_store.resume_run(run.id, f"resumed by the user after: {cause}")
    scheduling.schedule_pass(ws)
    return ws.store.get_run(resumed.id)


def resume_sweep(ws: OpenWorkspace, run_id: str) -> Run:
    """A sweep whose driver died or was stopped, queued again: its new driver carries on from
    the trials recorded in the store."""
    return resume_job(ws, run_id, ResumableJob.SWEEP)


def _kind_of(ws: OpenWorkspace, run_id: str, expected: ResumableJob | None) -> ResumableJob:
    """The run's job, from its definition; refused in one line when it is not `expected` (or,
    expecting any, not a job that resumes)."""
    try:
        spec = read_job_spec(ws, run_id)
    except NotFound:  # an interactive run: no job at all
        spec = {}
    found = next((job for job, kind in _KINDS.items() if spec.get("module") in kind.modules), None)
    if found is not None and expected in (None, found):
        return found
    what = spec.get("script") or spec.get("module")
    if expected is ResumableJob.SWEEP:
        raise not_a_sweep(run_id, what)
    if expected is ResumableJob.PIPELINE:
        raise not_a_pipeline(run_id, what)
    if expected is ResumableJob.AUTOML:
        raise InvalidValue(
            f"run {run_id} is not an AutoML run (it runs {what or 'no job'}): name the run"
            " `modelyard automl` printed",
            run_id=run_id,
        )
    raise InvalidValue(
        f"run {run_id} runs {what or 'no job'}, which cannot be resumed: only a sweep, an"
        " AutoML run or a pipeline carries on from where it stopped; submit the job again",
        run_id=run_id,
    )


def _settle_children(ws: OpenWorkspace, parent: Run) -> None:
    """The children an earlier attempt's process left active (an AutoML family searched when
    it was killed) are recorded Failed now, as the reaper would once their heartbeat is late.

    They ran inside that process, which is gone (the parent is no longer active): nothing can
    write to them any more, whatever their supervisor still tidies up (their handle is its; it
    may live a moment longer), so no process is asked about."""
    why = (
        f"the process of attempt {parent.attempt} of run {parent.id} is gone without reporting"
        " an end; its next attempt takes this child's work up again"
    )
    for child in ws.store.list_runs(parent_id=parent.id):
        if not child.status.is_active:
            continue
        # It ended meanwhile: its own writer's word stands.
        with contextlib.suppress(InvalidTransition):
            ws.store.transition_run(child.id, RunStatus.FAILED, error=why)


def _settled(ws: OpenWorkspace, run: Run, error: str) -> Run:
    """A run still marked active whose process is gone (killed, and the reaper has not waited
    out its heartbeat yet) is recorded Failed now, as the reaper would."""
    if not run.status.is_active:
        return run
    gone, why = process_is_gone(ws, run)
    if not gone:
        return run
    try:
        return ws.store.transition_run(run.id, RunStatus.FAILED, error=why or error)
    except InvalidTransition:  # it ended meanwhile: its own writer's word stands
        return ws.store.get_run(run.id)
