"""Submitting a pipeline, and a new run of one already run (`pipeline rerun`); one whose
driver stopped is resumed by `services/resume.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from modelyard.entities import Run, RunSource
from modelyard.entities.data import is_data_reference, parse_data_reference
from modelyard.entities.pipelines import (
    Binding,
    Literal,
    Pipeline,
    PipelineInput,
    Step,
    StepInput,
)
from modelyard.errors import InvalidValue, NotFound
from modelyard.services import data, jobs, scheduling
from modelyard.services.pipelines.pipeline_file import read_config
from modelyard.services.pipelines.pipeline_job import (
    CONFIG_FILE,
    PIPELINE_MODULE,
    PIPELINE_TITLE,
    PipelineJob,
    RerunOptions,
    config_bytes,
)
from modelyard.services.runs import get_run
from modelyard.services.workspaces import OpenWorkspace


def submit_pipeline(
    ws: OpenWorkspace,
    job: PipelineJob,
    user: str | None = None,
    *,
    force_rerun: bool = False,
    properties: Mapping[str, str] | None = None,
) -> Run:
    """Queue the pipeline's parent run, whose driver queues the steps; nothing is created
    when the pipeline is wrong in itself, a step's code or a data input is missing, or a
    step's compute cannot take jobs. `properties` are recorded before it is queued (on the
    workspace's own machine only)."""
    driver = pipeline_driver_job(ws, job, force_rerun=force_rerun)
    return jobs.submit(ws, driver, user=user, properties=properties)


def pipeline_driver_job(
    ws: OpenWorkspace, job: PipelineJob, *, force_rerun: bool = False, keep_latest: bool = False
) -> jobs.ModuleJob:
    """The pipeline, checked and its data inputs pinned, as the driver job `jobs.submit`
    queues (or packs for a server). `keep_latest`: `@latest` inputs stay so, for the server
    to pin when it submits the driver (a schedule's upload, at each fire: `pin_driver_config`)."""
    if force_rerun:
        job = job.with_options(RerunOptions(force_rerun=True))
    job.validate()
    job = replace(job, pipeline=pin_data_inputs(ws, job.pipeline, keep_latest))
    if ws.server_url is not None:
        refuse_local_paths(ws.server_url, job)
    else:  # a server checks its own computes when the driver runs
        _check_data_inputs(job)
        for compute in sorted({job.pipeline.compute_of(s) for s in job.pipeline.steps.values()}):
            jobs.check_compute_takes_jobs(ws, compute)
        _refuse_steps_away_unserved(ws, job.pipeline)
    return job.to_module_job()


def rerun_pipeline(
    ws: OpenWorkspace,
    run_id: str,
    *,
    from_step: str | None = None,
    force_rerun: bool = False,
    user: str | None = None,
) -> Run:
    """A new run of pipeline run `run_id`'s definition and code. `from_step`: that step and its
    dependants run; the others reuse `run_id`'s outputs where its steps completed."""
    source = get_run(ws, run_id)
    snapshot = driver_snapshot(ws, source.id)
    pipeline, _ = read_config((snapshot / CONFIG_FILE).read_bytes(), snapshot)
    options = RerunOptions(force_rerun=force_rerun, from_step=from_step, source_run=source.id)
    job = PipelineJob(
        pipeline=pipeline,
        source=RunSource(script=PIPELINE_TITLE, arguments=_rerun_arguments(source.id, options)),
        options=options,
    )
    return submit_pipeline(ws, job, user=user)


def driver_snapshot(ws: OpenWorkspace, run_id: str) -> Path:
    spec = jobs.read_job_spec(ws, run_id)
    if spec.get("module") != PIPELINE_MODULE:
        raise not_a_pipeline(run_id, spec.get("script") or spec.get("module"))
    snapshot = ws.local_artifacts.run_root(run_id) / "snapshot"
    if not (snapshot / CONFIG_FILE).is_file():
        raise NotFound(
            f"pipeline run {run_id} has no {CONFIG_FILE} in its snapshot: submit the pipeline"
            " file again",
            run_id=run_id,
        )
    return snapshot


def not_a_pipeline(run_id: str, what: object) -> InvalidValue:
    return InvalidValue(
        f"run {run_id} is not a pipeline run (it runs {what or 'no job'}): name the run"
        " `modelyard job create -f pipeline.yml` printed",
        run_id=run_id,
    )


def _rerun_arguments(run_id: str, options: RerunOptions) -> tuple[str, ...]:
    arguments: tuple[str, ...] = ("rerun", run_id)
    if options.from_step is not None:
        arguments += ("--from", options.from_step)
    return arguments + (("--force-rerun",) if options.force_rerun else ())


def pin_data_inputs(ws: OpenWorkspace, pipeline: Pipeline, keep_latest: bool = False) -> Pipeline:
    """Each data asset reference among the pipeline's and its steps' inputs resolved now to
    the version it names (`data:x@latest` → `data:x:3`): the steps, a rerun and a resume read
    that version, and their reuse keys are its content hash. `keep_latest`: an `@latest` one
    is only checked to exist, and stays so."""
    inputs = {
        name: PipelineInput(port.type, _pinned(ws, port.value, keep_latest))
        if port.type.is_data
        else port
        for name, port in pipeline.inputs.items()
    }
    steps = {name: _pinned_step(ws, step, keep_latest) for name, step in pipeline.steps.items()}
    return replace(pipeline, inputs=inputs, steps=steps)


def _pinned_step(ws: OpenWorkspace, step: Step, keep_latest: bool) -> Step:
    inputs: Mapping[str, StepInput] = {
        name: StepInput(Binding(literal=_pinned(ws, port.binding.literal, keep_latest)), port.type)
        if port.binding.literal is not None and port.type is not None and port.type.is_data
        else port
        for name, port in step.inputs.items()
    }
    return replace(step, inputs=inputs)


def _pinned(ws: OpenWorkspace, value: Literal, keep_latest: bool) -> Literal:
    if not isinstance(value, str) or not is_data_reference(value):
        return value
    version = data.get_data_version(ws, value)
    if keep_latest and parse_data_reference(value).version is None:
        return value
    return f"data:{version.name}:{version.version}"


def pin_driver_config(ws: OpenWorkspace, snapshot: Path) -> None:
    """An uploaded driver's `pipeline.json` with the `@latest` data inputs a schedule's upload
    kept pinned now, when the server submits it (a no-op for one pinned by its client)."""
    config = snapshot / CONFIG_FILE
    pipeline, options = read_config(config.read_bytes(), snapshot)
    pinned = pin_data_inputs(ws, pipeline)
    if pinned != pipeline:
        config.write_bytes(config_bytes(pinned, options))


def refuse_local_paths(server_url: str, job: PipelineJob) -> None:
    """The driver runs on the server's machine and would read a path there, not here: data
    goes to a server as a data asset."""
    for name, port in job.pipeline.inputs.items():
        if port.type.is_data and not is_data_reference(str(port.value)):
            raise InvalidValue(
                f"pipeline input {name!r} is the local path {str(port.value)!r}, which the"
                f" server at {server_url} cannot read: create a data asset of it (`modelyard"
                " data create NAME --path ...`) and set its 'path' to data:NAME@latest",
                input=name,
                path=str(port.value),
            )


def _refuse_steps_away_unserved(ws: OpenWorkspace, pipeline: Pipeline) -> None:
    """A step on a compute whose jobs run on other machines (Ray) reports to the workspace's
    server, whose URL the driver learns from the process that launches it: submitted here,
    where no server is known, that step could only fail later, so it is refused now."""
    if ws.served_at is not None:  # every compute is served: no need to read them
        return
    for name in pipeline.order():
        compute = pipeline.compute_of(pipeline.steps[name])
        scheduling.check_served_for(
            ws,
            compute,
            ws.compute_store.get_compute(compute).type,
            f"step {name!r} runs on",
            "submission",
            "submit the pipeline through it (`modelyard workspace connect URL`, then"
            " `modelyard job create`)",
        )


def _check_data_inputs(job: PipelineJob) -> None:
    for name, port in job.pipeline.inputs.items():
        value = str(port.value)
        if port.type.is_data and not is_data_reference(value) and not Path(value).exists():
            raise NotFound(
                f"pipeline input {name!r} path {str(port.value)!r} does not exist: set its"
                " 'path' to a folder or file that does",
                input=name,
                path=str(port.value),
            )
