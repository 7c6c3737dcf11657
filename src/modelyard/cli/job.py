"""`modelyard job submit` and `modelyard job create -f job.yml`: the same job, two spellings."""

from __future__ import annotations

from pathlib import Path

import typer
from typer._click import Context as ClickContext  # Typer's own Click (see cli/main.py)
from typer.core import TyperCommand

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.pipeline import announce_pipeline, follow_pipeline
from modelyard.cli.run import announce_submitted, print_details, stream_logs
from modelyard.cli.sweep import announce_sweep, follow_sweep
from modelyard.entities import RunStatus
from modelyard.environments import Environment
from modelyard.services import jobs, runs
from modelyard.services.job_file import load_job_file
from modelyard.services.pipelines.pipeline_job import PipelineJob
from modelyard.services.pipelines.submission import submit_pipeline
from modelyard.services.sweeps.submission import submit_sweep
from modelyard.services.sweeps.sweep_job import SweepJob
from modelyard.services.workspaces import OpenWorkspace

app = typer.Typer(help="Submit scripts as jobs on a compute target.", no_args_is_help=True)


class ScriptArgumentsCommand(TyperCommand):
    """Our options before `--`, the script's arguments only after it: a mistyped option
    (`--strem`) is an error with a suggestion, never an argument handed to the script."""

    def parse_args(self, ctx: ClickContext, args: list[str]) -> list[str]:
        ours, script_arguments = _split_at_double_dash(args)
        ctx.allow_extra_args = True  # to name stray arguments ourselves, with the fix
        stray = super().parse_args(ctx, ours)
        if stray and not ctx.resilient_parsing:
            ctx.fail(
                f"unexpected argument {stray[0]!r}: the script's arguments go after `--`,"
                f" as in `{ctx.command_path} ... -- {' '.join(stray)}`"
            )
        ctx.args = script_arguments
        return ctx.args


def _split_at_double_dash(args: list[str]) -> tuple[list[str], list[str]]:
    if "--" not in args:
        return args, []
    at = args.index("--")
    return args[:at], args[at + 1 :]


@app.command(cls=ScriptArgumentsCommand, options_metavar="[OPTIONS] [-- SCRIPT_ARGUMENTS...]")
def submit(
    ctx: typer.Context,
    experiment: str = typer.Option(..., "--experiment", "-e", help="experiment name"),
    source_dir: Path = typer.Option(
        Path("."), "--source-dir", help="folder snapshotted for the job"
    ),
    script: str = typer.Option(..., "--script", help="script path inside the source folder"),
    compute: str = typer.Option("local", "--compute", help="compute target"),
    requirements: Path | None = typer.Option(
        None, "--requirements", help="pip requirements file: the job runs in a venv built from it"
    ),
    display_name: str | None = typer.Option(None, "--display-name"),
    stream: bool = typer.Option(False, "--stream", help="print the log until the run ends"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Submit SCRIPT with the arguments after `--`."""
    environment = (
        Environment.from_pip_requirements(f"{experiment}-env", requirements)
        if requirements
        else Environment.default()
    )
    job = jobs.ScriptJob(
        experiment=experiment,
        source_directory=source_dir.absolute(),
        script=script,
        arguments=tuple(ctx.args),
        compute_target=compute,
        environment=environment,
        display_name=display_name,
    )
    with opened_workspace(workspace) as ws:
        _submit_and_report(ws, job, stream)


@app.command()
def create(
    file: Path = typer.Option(..., "--file", "-f", help="job YAML"),
    stream: bool = typer.Option(False, "--stream", help="print the log until the run ends"),
    force_rerun: bool = typer.Option(
        False, "--force-rerun", help="a pipeline: run every step, reusing no earlier run"
    ),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Submit the job described in a YAML file: a command job, a sweep (`type: sweep`,
    Azure's sweep job: its trials run as child runs) or a pipeline (`type: pipeline`: its
    steps run as child runs, unchanged ones reused)."""
    with opened_workspace(workspace) as ws:
        job = load_job_file(file, ws)
        if force_rerun and not isinstance(job, PipelineJob):
            raise typer.BadParameter("--force-rerun applies to a pipeline (type: pipeline) only")
        if isinstance(job, PipelineJob):
            run = submit_pipeline(ws, job, force_rerun=force_rerun)
            announce_pipeline(ws, run)
            if stream:
                follow_pipeline(ws, run)
        elif isinstance(job, SweepJob):
            _submit_sweep_and_report(ws, job, stream)
        else:
            _submit_and_report(ws, job, stream)


def _submit_and_report(ws: OpenWorkspace, job: jobs.ScriptJob, stream: bool) -> None:
    run = jobs.submit(ws, job)
    announce_submitted(ws, run, job.compute_target)
    if not stream:
        return
    final = stream_logs(ws, run.id, follow=True)
    print_details(runs.get_run_details(ws, final.id))
    if final.status is not RunStatus.COMPLETED:
        raise typer.Exit(code=1)


def _submit_sweep_and_report(ws: OpenWorkspace, sweep: SweepJob, stream: bool) -> None:
    run = submit_sweep(ws, sweep)
    announce_sweep(ws, run, sweep.config.compute)
    if stream:
        follow_sweep(ws, run)
