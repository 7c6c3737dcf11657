"""`modelyard batch-score`: score a folder of images with a registered model, as a job.

The job runs on any compute; this command submits it, follows its progress (the run's own
`files_scored` and `files_failed` metrics) and, once the run has completed, writes its
predictions to `--output` (whole or not at all: `services.batch_scoring`).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import console
from modelyard.cli.run import announce_submitted, raise_unless_completed
from modelyard.errors import InvalidValue
from modelyard.services import runs
from modelyard.services.workspaces import OpenWorkspace


def batch_score(
    model: str = typer.Option(
        ..., "--model", "-m", help="the registered model: NAME@ALIAS, NAME:VERSION or NAME"
    ),
    data: Path = typer.Option(..., "--data", help="the folder of images to score"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="where to write the predictions (JSON lines) at the end"
    ),
    compute: str = typer.Option("local", "--compute", help="the compute target to run on"),
    experiment: str = typer.Option("batch-score", "--experiment", "-e", help="experiment name"),
    error_threshold: str = typer.Option(
        "-1",
        "--error-threshold",
        help="fail the run once more than N files (or P% of them) cannot be scored; -1: never",
    ),
    mini_batch_size: int = typer.Option(32, "--mini-batch-size", help="files per mini-batch"),
    display_name: str | None = typer.Option(None, "--display-name", help="the run's name"),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="follow the run until it ends"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Score every file of a folder with a registered image classifier, one JSON line each."""
    # Imported here: only this command needs NumPy and Pillow to check a model and its data.
    from modelyard.services import batch_scoring

    if output is not None:
        batch_scoring.check_output_file(output)
        if not wait:
            raise InvalidValue(
                f"--output {str(output)!r} with --no-wait: the predictions are written there when"
                " the run completes, which this command waits for; drop --no-wait, or later"
                " `modelyard run artifacts download RUN_ID outputs/predictions.jsonl`",
                path=str(output),
            )
    with opened_workspace(workspace) as ws:
        run = batch_scoring.submit_batch_score(
            ws,
            model,
            data,
            experiment=experiment,
            compute_target=compute,
            error_threshold=error_threshold,
            mini_batch_size=mini_batch_size,
            display_name=display_name,
        )
        announce_submitted(ws, run, compute)
        if not wait:
            return
        _follow(ws, run.id)
        _report(ws, run.id)
        if output is not None and batch_scoring.download_predictions(ws, run.id, output):
            console.print(f"Predictions written to {output}")


def _follow(ws: OpenWorkspace, run_id: str) -> None:
    columns = (
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("scoring", total=None, detail="")
        while True:
            run = runs.get_run(ws, run_id)
            data = ws.store.get_run_data(run_id)
            metrics = data.latest_metrics
            total = int(data.params.get("files", "0") or 0) or None
            done = int(metrics.get("files_scored", 0) + metrics.get("files_failed", 0))
            detail = f"{int(metrics.get('files_failed', 0))} failed"
            if metrics.get("images_per_s"):
                detail += f", {metrics['images_per_s']:.1f} images/s"
            progress.update(task, total=total, completed=done, detail=detail)
            if run.status.is_terminal:
                return
            time.sleep(ws.settings.poll_interval_s)


def _report(ws: OpenWorkspace, run_id: str) -> None:
    run = runs.get_run(ws, run_id)
    raise_unless_completed(run)
    metrics = ws.store.get_run_data(run_id).latest_metrics
    failed = int(metrics.get("files_failed", 0))
    console.print(
        f"Scored {int(metrics.get('files_scored', 0))} files; {failed} could not be read."
    )
    if failed:
        console.print(
            f"They are listed in the run's outputs/unreadable.jsonl: modelyard run artifacts"
            f" download {run_id} outputs/unreadable.jsonl"
        )
