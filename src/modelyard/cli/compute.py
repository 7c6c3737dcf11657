"""`modelyard compute create|list|show|delete|list-sizes|preempt`: compute targets.

A thin shell over `services.computes`: a request wrong in itself is refused in one line and
nothing is created; one that fails while provisioning leaves a Failed compute, printed with its
errors, and the command exits 1 with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import (
    OutputFormat,
    OutputOption,
    console,
    emit,
    emit_json,
    emit_mapping,
    emit_table,
    format_time,
)
from modelyard.entities import Run
from modelyard.entities.compute import (
    DEFAULT_SIZE,
    ComputeRequest,
    ComputeTarget,
    ComputeType,
    Priority,
    ProvisioningState,
)
from modelyard.errors import ComputeErrored, InvalidValue
from modelyard.services import computes, runs
from modelyard.services.compute_file import load_compute_file
from modelyard.services.computes import ComputeDetails
from modelyard.settings import Settings

app = typer.Typer(
    help="Compute targets: named pools of nodes with a size and a priority.", no_args_is_help=True
)

LIST_COLUMNS = ["name", "type", "size", "priority", "state", "nodes", "errors"]
SIZE_COLUMNS = {
    "name": "name",
    "vcpus": "vCPUs",
    "memory_gib": "memory GiB",
    "temp_storage_gib": "temp storage GiB",
    "gpus": "GPUs",
    "gpu_memory_gib": "GPU memory GiB",
    "max_data_disks": "max data disks",
    "max_nics": "max NICs",
}
RUN_COLUMNS = ["id", "experiment", "display_name", "status", "attempt", "reason"]


@app.command()
def create(
    name: str | None = typer.Argument(
        None, metavar="[NAME]", help="2-16 letters, digits and hyphens (with -f: overrides)"
    ),
    file: Path | None = typer.Option(None, "--file", "-f", help="compute YAML (Azure v2 shape)"),
    type_: str | None = typer.Option(None, "--type", help="local (default) or ray"),
    size: str | None = typer.Option(
        None, "--size", help=f"a size of `modelyard compute list-sizes` (default {DEFAULT_SIZE})"
    ),
    priority: str | None = typer.Option(
        None, "--priority", help="dedicated (default) or low-priority (its jobs may be preempted)"
    ),
    min_nodes: int | None = typer.Option(None, "--min-nodes", help="default 0"),
    max_nodes: int | None = typer.Option(None, "--max-nodes", help="jobs at once; default 1"),
    idle_seconds: int | None = typer.Option(
        None, "--idle-seconds-before-scaledown", help="default 1800"
    ),
    address: str | None = typer.Option(
        None, "--address", help="a ray compute's cluster, e.g. http://127.0.0.1:8265"
    ),
    description: str | None = typer.Option(None, "--description"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Create a compute and provision it: the host or the Ray cluster must have the size."""
    flags: dict[str, Any] = {
        "type": type_,
        "size": size,
        "priority": priority,
        "min_nodes": min_nodes,
        "max_nodes": max_nodes,
        "idle_seconds_before_scaledown": idle_seconds,
        "address": address,
        "description": description,
    }
    given = {key: value for key, value in flags.items() if value is not None}
    request = _request(name, file, given)
    with opened_workspace(workspace) as ws:
        compute = computes.create_compute(ws, request)
    _print_compute(compute, output)
    if compute.state is ProvisioningState.FAILED:
        raise _provisioning_failed(compute)


def _request(name: str | None, file: Path | None, flags: dict[str, Any]) -> ComputeRequest:
    if file is not None:
        if flags:
            given = ", ".join(f"--{key.replace('_', '-')}" for key in flags)
            raise InvalidValue(
                f"-f {file} describes the whole compute: drop {given}, or put them in the file",
                path=str(file),
            )
        return load_compute_file(file, name)
    if name is None:
        raise InvalidValue("name the compute: `modelyard compute create NAME`, or -f FILE")
    if "type" in flags:
        flags["type"] = ComputeType.parse(flags["type"])
    if "priority" in flags:
        flags["priority"] = Priority.parse(flags["priority"])
    return ComputeRequest(name=name, **flags)


def _provisioning_failed(compute: ComputeTarget) -> ComputeErrored:
    cause = compute.errors[-1] if compute.errors else "provisioning failed"
    return ComputeErrored(
        f"compute {compute.name} failed to provision: {cause}; it stays listed as Failed and"
        f" keeps its name until `modelyard compute delete {compute.name}`",
        compute=compute.name,
    )


def _print_compute(compute: ComputeTarget, output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        emit_json(compute.to_dict())
        return
    emit_mapping(f"Compute {compute.name}", _summary(compute), sort=False)


def _summary(compute: ComputeTarget, nodes_in_use: int | None = None) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "state": compute.state.value,
        "errors": "; ".join(compute.errors),
        "type": compute.type.value,
        "size": compute.size or "(none: the host as it is)",
        "priority": compute.priority.value,
        "nodes": _nodes(compute, nodes_in_use),
        "idle seconds before scale-down": compute.idle_seconds_before_scaledown,
        "address": compute.address,
        "description": compute.description,
        "created": format_time(compute.created_at),
    }
    return {key: value for key, value in summary.items() if value not in (None, "")}


def _nodes(compute: ComputeTarget, in_use: int | None) -> str:
    most = "no limit" if compute.max_nodes is None else str(compute.max_nodes)
    if in_use is not None:
        return f"{in_use} in use of {most}"
    return f"{compute.min_nodes}-{most}" if compute.max_nodes is not None else most


@app.command("list")
def list_(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    """List computes, Failed ones with their errors (the built-in `local` included)."""
    with opened_workspace(workspace) as ws:
        found = computes.list_computes(ws)
    if output is OutputFormat.JSON:
        emit_json([compute.to_dict() for compute in found])
        return
    rows = [_list_row(compute) for compute in found]
    emit_table("Computes", LIST_COLUMNS, rows)


def _list_row(compute: ComputeTarget) -> list[Any]:
    kind, priority, state = compute.type.value, compute.priority.value, compute.state.value
    errors = "; ".join(compute.errors)
    return [compute.name, kind, compute.size, priority, state, _nodes(compute, None), errors]


@app.command()
def show(
    name: str,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Show a compute: state, errors, size, priority, nodes in use, and its queue with the
    reason each run waits."""
    with opened_workspace(workspace) as ws:
        details = computes.compute_details(ws, name)
    if output is OutputFormat.JSON:
        emit_json(details.to_dict())
        return
    print_details(details)


def print_details(details: ComputeDetails) -> None:
    compute = details.compute
    emit_mapping(f"Compute {compute.name}", _summary(compute, details.nodes_in_use), sort=False)
    if details.running:
        emit_table("Running", RUN_COLUMNS, [_run_row(run) for run in details.running])
    if details.queued:
        emit_table("Queue (in order)", RUN_COLUMNS, [_run_row(run) for run in details.queued])
    else:
        console.print("Queue: empty")


def _run_row(run: Run) -> list[Any]:
    return [
        run.id,
        run.experiment_name,
        run.display_name,
        run.status.value,
        run.attempt,
        run.status_detail or "",
    ]


@app.command()
def delete(
    name: str,
    force: bool = typer.Option(
        False, "--force", help="cancel the compute's queued and running jobs first"
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Delete a compute; refused while jobs are queued or running on it, unless --force."""
    if not yes:
        what = " and cancel its queued and running jobs" if force else ""
        typer.confirm(f"Delete compute {name}{what}?", abort=True)
    with opened_workspace(workspace) as ws:
        computes.delete_compute(ws, name, force=force)
    console.print(f"Deleted compute {name}.")


@app.command("list-sizes")
def list_sizes(output: OutputFormat = OutputOption) -> None:
    """The size catalog, with Azure's own figures: vCPUs, memory, temporary storage, GPUs."""
    sizes = [size.to_dict() for size in computes.list_sizes()]
    if output is OutputFormat.JSON:
        emit_json(sizes)
        return
    rows = [[size[key] for key in SIZE_COLUMNS] for size in sizes]
    emit_table("Compute sizes", list(SIZE_COLUMNS.values()), rows)


@app.command()
def preempt(
    name: str,
    run: str | None = typer.Option(
        None, "--run", help="only this run (id, id prefix or display name)"
    ),
    experiment: str | None = typer.Option(
        None, "--experiment", "-e", help="look --run's display name up in this experiment"
    ),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Preempt a low-priority compute's running jobs (or one), as a cloud eviction would: each
    is stopped and queued again, and resumes from its checkpoints when it runs again."""
    with opened_workspace(workspace) as ws:
        run_id = None if run is None else runs.resolve_run(ws, run, experiment).id
        preempted = computes.preempt(ws, name, run_id)
        settled = computes.wait_until_requeued(ws, preempted, _requeue_bound_s(ws.settings))
    if output is OutputFormat.JSON:
        emit_json([item.to_dict() for item in settled])
        return
    if not settled:
        console.print(f"Nothing was running on compute {name}: nothing preempted.")
        return
    emit(OutputFormat.TABLE, [_preempted_row(item) for item in settled], "Preempted", RUN_COLUMNS)


def _requeue_bound_s(settings: Settings) -> float:
    """Long enough for a job to hear of it (a heartbeat), stop (the grace period, then a kill)
    and be requeued, or for the reaper to requeue it if its supervisor died."""
    heard = 2 * settings.heartbeat_interval_s
    return heard + settings.cancel_grace_s + settings.heartbeat_timeout_s


def _preempted_row(run: Run) -> dict[str, Any]:
    return dict(zip(RUN_COLUMNS, _run_row(run), strict=True))
