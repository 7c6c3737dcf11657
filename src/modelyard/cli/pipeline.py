"""`modelyard pipeline show|rerun|publish|invoke|published`: a pipeline run's steps (status,
the run each reused, why each ran), a new run of a pipeline run's definition, and published
pipelines (a named, versioned pipeline invoked with parameters). A pipeline is submitted as a
job: `modelyard job create -f pipeline.yml`; one whose driver stopped, `modelyard run resume`."""

from __future__ import annotations

from pathlib import Path

import typer

from modelyard.cli import pipeline_draft, published_pipeline
from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, console, emit, emit_json, emit_table
from modelyard.cli.run import (
    RunArgument,
    RunExperimentOption,
    announce_submitted,
    follow_parent,
)
from modelyard.entities import Run
from modelyard.entities.published_pipelines import parse_assignments
from modelyard.errors import InvalidValue
from modelyard.services import runs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines import published
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.status import StepStatus, pipeline_steps
from modelyard.services.pipelines.submission import rerun_pipeline
from modelyard.services.workspaces import OpenWorkspace

app = typer.Typer(
    help="Pipelines: a run's steps, and rerunning one (submit one with `modelyard job create"
    " -f pipeline.yml`).",
    no_args_is_help=True,
)
app.add_typer(published_pipeline.app, name="published")
app.add_typer(pipeline_draft.app, name="draft")


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


@app.command()
def publish(
    name: str = typer.Option(..., "--name", help="the published pipeline's name"),
    file: Path | None = typer.Option(None, "--file", "-f", help="a pipeline YAML"),
    run: str | None = typer.Option(None, "--run", help="a pipeline run, whose definition"),
    description: str = typer.Option("", "--description", help="what this version does"),
    experiment: str | None = RunExperimentOption,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Publish a pipeline file's definition and its steps' code (or a pipeline run's) as the
    next version of NAME; invoke it with `modelyard pipeline invoke NAME`."""
    if (file is None) == (run is None):
        raise InvalidValue("give either -f PIPELINE.yml or --run RUN, not both nor neither")
    with opened_workspace(workspace) as ws:
        if run is not None:
            run_id = runs.resolve_run(ws, run, experiment).id
            made = published.publish_pipeline_run(ws, run_id, name, description)
        else:
            assert file is not None
            made = published.publish_pipeline(ws, _pipeline_job(file), name, description)
    columns = ["name", "version", "pipeline", "parameters", "source_run"]
    shown = {**made.to_dict(), "parameters": ", ".join(p.name for p in made.parameters)}
    emit(output, shown, f"published pipeline {made.reference}", columns)


def _pipeline_job(path: Path) -> PipelineJob:
    job = load_job_file(path)
    if not isinstance(job, PipelineJob):
        raise InvalidValue(
            f"{path} is not a pipeline file: give it 'type: pipeline' and its steps under 'jobs'",
            path=str(path),
        )
    return job


@app.command()
def invoke(
    name: str = typer.Argument(..., help="a published pipeline's name"),
    version: int | None = typer.Option(None, "--version", help="default: its default version"),
    experiment: str | None = typer.Option(
        None, "--experiment", help="the run's experiment (default: the pipeline's own)"
    ),
    assignments: list[str] = typer.Option(
        [], "--set", help="a parameter's value, NAME=VALUE (repeatable): --set epochs=5"
    ),
    display_name: str | None = typer.Option(None, "--display-name"),
    stream: bool = typer.Option(False, "--stream", help="print the log until the pipeline ends"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Start a pipeline run of published pipeline NAME with its parameters set."""
    invocation = published.Invocation(
        name=name,
        version=version,
        experiment=experiment,
        parameters=parse_assignments(assignments),
        as_text=True,
        display_name=display_name,
    )
    with opened_workspace(workspace) as ws:
        new = published.invoke_published(ws, invocation)
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
