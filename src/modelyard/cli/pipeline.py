"""`modelyard pipeline show|rerun`: a pipeline run's steps (status, the run each reused, why
each ran), and a new run of a pipeline run's definition. A pipeline is submitted as a job:
`modelyard job create -f pipeline.yml`; one whose driver stopped, `modelyard run resume`."""

from __future__ import annotations

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, console, emit_json, emit_table
from modelyard.cli.run import (
    RunArgument,
    RunExperimentOption,
    announce_submitted,
    follow_parent,
)
from modelyard.entities import Run
from modelyard.services import runs
from modelyard.services.pipelines.status import StepStatus, pipeline_steps
from modelyard.services.pipelines.submission import rerun_pipeline
from modelyard.services.workspaces import OpenWorkspace

app = typer.Typer(
    help="Pipelines: a run's steps, and rerunning one (submit one with `modelyard job create"
    " -f pipeline.yml`).",
    no_args_is_help=True,
)


@app.command()
def show(
    run: str = RunArgument,
    experiment: str | None = RunExperimentOption,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Show a pipeline run's steps: status, the run each reused, why each ran."""
    with opened_workspace(workspace) as ws:
        steps = pipeline_steps(ws, runs.resolve_run(ws, run, experiment).id)
    if output is OutputFormat.JSON:
        emit_json([step.to_dict() for step in steps])
        return
    print_steps(steps)


@app.command()
def rerun(
    run: str = RunArgument,
    from_step: str | None = typer.Option(
        None, "--from", help="this step and its dependants run; the others reuse RUN's outputs"
    ),
    force_rerun: bool = typer.Option(
        False, "--force-rerun", help="run every step, reusing no earlier run"
    ),
    experiment: str | None = RunExperimentOption,
    stream: bool = typer.Option(False, "--stream", help="print the log until the pipeline ends"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Run pipeline run RUN's definition again, as a new pipeline run: unchanged steps are
    reused (a step's inputs are hashed again: data changed in place runs it)."""
    with opened_workspace(workspace) as ws:
        source = runs.resolve_run(ws, run, experiment)
        new = rerun_pipeline(ws, source.id, from_step=from_step, force_rerun=force_rerun)
        announce_pipeline(ws, new)
        if stream:
            follow_pipeline(ws, new)


def announce_pipeline(ws: OpenWorkspace, run: Run) -> None:
    announce_submitted(ws, run, "local (its driver; each step on its own compute)")
    console.print(f"See its steps with: modelyard pipeline show {run.id}")


def follow_pipeline(ws: OpenWorkspace, run: Run) -> None:
    """The driver's log (each step's progress) until the pipeline ends, then the run and its
    steps; exit 1 unless it completed."""
    follow_parent(ws, run, lambda run_id: print_steps(pipeline_steps(ws, run_id)))


def print_steps(steps: list[StepStatus]) -> None:
    rows = [
        [
            step.step,
            step.run_id,
            step.status.value,
            step.reused_from,
            step.error if step.error else step.reason,
        ]
        for step in steps
    ]
    emit_table("Steps", ["step", "run", "status", "reused from", "why"], rows, whole={"run"})
