"""Batch scoring from Python, the job `modelyard batch-score` submits::

    run = modelyard.batch_score(ws, model="flowers@champion", data="photos",
                                output="preds.jsonl", compute_target="cheap-ray")

With `output`, it waits for the run and writes the predictions there once the run has
completed (whole or not at all); without, it returns the run as soon as it is queued.
"""

from __future__ import annotations

from pathlib import Path

from modelyard.errors import JobFailed
from modelyard.sdk._objects import Experiment, Run, Workspace
from modelyard.services import batch_scoring, jobs
from modelyard.serving.batch.config import DEFAULT_MINI_BATCH_SIZE, NO_THRESHOLD


def batch_score(
    workspace: Workspace,
    model: str,
    data: str | Path,
    output: str | Path | None = None,
    compute_target: str = "local",
    experiment: str = batch_scoring.DEFAULT_EXPERIMENT,
    error_threshold: int | str = NO_THRESHOLD,
    mini_batch_size: int = DEFAULT_MINI_BATCH_SIZE,
    display_name: str | None = None,
) -> Run:
    """Score every file of `data` with the registered `model` (NAME@ALIAS, NAME:VERSION or
    NAME); `error_threshold` is a count of files, a percentage (`"5%"`) or -1 (no limit).
    With `output`, a run that does not complete raises JobFailed and writes nothing there."""
    opened = workspace._opened
    if output is not None:
        batch_scoring.check_output_file(Path(output))
    submitted = batch_scoring.submit_batch_score(
        opened,
        model,
        Path(data),
        experiment=experiment,
        compute_target=compute_target,
        error_threshold=str(error_threshold),
        mini_batch_size=mini_batch_size,
        display_name=display_name,
    )
    run = Run(Experiment(workspace, experiment), submitted.id)
    if output is not None:
        ended = jobs.wait_for_completion(opened, submitted.id)
        if not batch_scoring.download_predictions(opened, submitted.id, Path(output)):
            reason = (ended.error or "no reason recorded").strip().splitlines()[0]
            raise JobFailed(
                f"run {submitted.id} ended {ended.status.value}: {reason}; nothing was written"
                f" to {str(output)!r}",
                run_id=submitted.id,
            )
    return run
