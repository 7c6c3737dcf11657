"""`modelyard sweep show|resume`: a sweep's leaderboard, and a sweep whose driver stopped
carried on. A sweep is submitted as a job: `modelyard job create -f sweep.yml`."""

from __future__ import annotations

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import (
    OutputFormat,
    OutputOption,
    console,
    emit_json,
    emit_table,
)
from modelyard.cli.run import (
    RunArgument,
    RunExperimentOption,
    announce_submitted,
    follow_parent,
)
from modelyard.entities import Run
from modelyard.services import runs
from modelyard.services.resume import resume_sweep
from modelyard.services.sweeps.leaderboard import Leaderboard, read_leaderboard
from modelyard.services.workspaces import OpenWorkspace

app = typer.Typer(
    help="Hyperparameter sweeps: the leaderboard, and resuming one whose driver stopped"
    " (submit one with `modelyard job create -f sweep.yml`).",
    no_args_is_help=True,
)


@app.command()
def show(
    run: str = RunArgument,
    experiment: str | None = RunExperimentOption,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Show a sweep's trials ranked by its primary metric, the best first."""
    with opened_workspace(workspace) as ws:
        board = read_leaderboard(ws, runs.resolve_run(ws, run, experiment).id)
    if output is OutputFormat.JSON:
        emit_json(board.to_dict())
        return
    print_leaderboard(board)


@app.command()
def resume(
    run: str = RunArgument,
    experiment: str | None = RunExperimentOption,
    stream: bool = typer.Option(False, "--stream", help="print the log until the sweep ends"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Queue a sweep whose driver died or was canceled again: it carries on from the trials
    recorded, awaiting the running ones; no trial runs twice."""
    with opened_workspace(workspace) as ws:
        resumed = resume_sweep(ws, runs.resolve_run(ws, run, experiment).id)
        console.print(f"Resumed sweep {resumed.id} as attempt {resumed.attempt}.")
        if stream:
            follow_sweep(ws, resumed)


def follow_sweep(ws: OpenWorkspace, run: Run) -> None:
    """The driver's log until the sweep ends, then the run and its leaderboard; exit 1 unless
    it completed."""
    follow_parent(ws, run, lambda run_id: print_leaderboard(read_leaderboard(ws, run_id)))


def announce_sweep(ws: OpenWorkspace, run: Run, compute: str) -> None:
    announce_submitted(ws, run, f"{compute} (its trials; the driver runs here)")
    console.print(f"See its leaderboard with: modelyard sweep show {run.id}")


def print_leaderboard(board: Leaderboard) -> None:
    params = sorted({name for entry in board.entries for name in entry.params})
    columns = ["trial", "run", "status", board.primary_metric, *params, "reason"]
    rows = [
        [
            entry.number,
            entry.run_id,
            entry.status.value,
            entry.value,
            *(entry.params.get(name) for name in params),
            entry.reason,
        ]
        for entry in board.entries
    ]
    best = board.best
    title = f"Trials ({board.goal.value} {board.primary_metric}; {board.ended} of"
    title += f" {board.total_trials} ended)"
    emit_table(title, columns, rows, whole={"run"})
    if best is not None:
        console.print(
            f"Best: trial {best.number} (run {best.run_id}), {board.primary_metric}"
            f" {best.value:.6g}",
            highlight=False,
        )
