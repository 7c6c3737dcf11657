"""`modelyard deploy` and `modelyard endpoint create|update|show|list|delete|invoke|get-keys|
regen-key|logs`: online endpoints, in Azure's v2 words; a deployment runs on `local` (replica
processes on this machine) or a ray compute (a Ray Serve application, optionally autoscaled).

A thin shell over `services.endpoints`. A deploy whose preflight fails prints the script's
traceback under the one-line error and exits 1; nothing of it is left running.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from modelyard.cli.common import WorkspaceOption, opened_workspace
from modelyard.cli.output import OutputFormat, OutputOption, emit, emit_json, emit_mapping
from modelyard.entities.endpoints import (
    LOCAL_COMPUTE,
    Deployment,
    DeploymentRequest,
    Endpoint,
    format_split,
    parse_traffic,
)
from modelyard.environments import Environment
from modelyard.errors import InvalidValue
from modelyard.services import endpoints
from modelyard.services.workspaces import OpenWorkspace

app = typer.Typer(help="Online endpoints: deployments, traffic, keys.", no_args_is_help=True)

LIST_COLUMNS = ["name", "scoring_uri", "traffic", "deployments"]
DEPLOYMENT_COLUMNS = ["name", "resolved_model", "state", "compute", "replicas", "error"]

EndpointArgument = typer.Argument(..., help="3-32 letters, digits and hyphens")
TrafficOption = typer.Option(None, "--traffic", help="e.g. blue=90,green=10 (sums to 100)")


def deploy(
    endpoint: str = EndpointArgument,
    model: str = typer.Option(..., "--model", help="NAME, NAME:VERSION or NAME@ALIAS"),
    deployment: str = typer.Option("default", "--deployment", help="the deployment's name"),
    entry_script: str | None = typer.Option(None, "--entry-script", help="score.py"),
    source_directory: Path | None = typer.Option(None, "--source-directory"),
    environment: Path | None = typer.Option(
        None, "--environment", help="a pip requirements file: the replicas' environment"
    ),
    compute: str = typer.Option(
        LOCAL_COMPUTE,
        "--compute",
        help="local (processes on this machine) or a ray compute (a Ray Serve application)",
    ),
    replicas: int = typer.Option(1, "--replicas", help="a fixed number of replicas"),
    min_replicas: int | None = typer.Option(
        None, "--min-replicas", help="ray compute: autoscale from this many (default 1)"
    ),
    max_replicas: int | None = typer.Option(
        None, "--max-replicas", help="ray compute: autoscale up to this many (turns it on)"
    ),
    target_ongoing_requests: float | None = typer.Option(
        None,
        "--target-ongoing-requests",
        help="ray compute: requests in flight per replica the autoscaler aims at (default 2)",
    ),
    cpu_cores: float = typer.Option(
        1.0,
        "--cpu-cores",
        help="each replica's CPUs (local: pinned, a fraction takes one whole; ray: Ray's)",
    ),
    memory_gb: float = typer.Option(
        1.0,
        "--memory-gb",
        help="each replica's memory (local: over it, the replica is restarted; ray: Ray's)",
    ),
    port: int | None = typer.Option(None, "--port", help="a new endpoint's port (default: free)"),
    traffic: str | None = TrafficOption,
    sample: Path | None = typer.Option(None, "--sample", help="the preflight's request body"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Deploy a registered model to an endpoint (created if new), after a preflight."""
    request = DeploymentRequest(
        endpoint=endpoint,
        name=deployment,
        model=model,
        entry_script=entry_script,
        source_directory=str(source_directory) if source_directory else None,
        environment=_environment(environment),
        compute=compute,
        replicas=replicas,
        cpu_cores=cpu_cores,
        memory_gb=memory_gb,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        target_ongoing_requests=target_ongoing_requests,
    )
    split = parse_traffic(traffic) if traffic else None
    with opened_workspace(workspace) as ws:
        endpoints.deploy(ws, request, port=port, traffic=split, sample=_read(sample))
        _print_endpoint(endpoints.get_endpoint(ws, endpoint), ws_deployments(ws, endpoint), output)


@app.command()
def create(
    name: str = EndpointArgument,
    port: int | None = typer.Option(None, "--port", help="default: a free port"),
    description: str | None = typer.Option(None, "--description"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Create an endpoint (keys and scoring URI, no deployment yet)."""
    with opened_workspace(workspace) as ws:
        created = endpoints.create_endpoint(ws, name, port, description)
    _print_endpoint(created, [], output)


@app.command()
def update(
    name: str = EndpointArgument,
    deployment: str | None = typer.Option(None, "--deployment", help="the deployment to update"),
    model: str | None = typer.Option(None, "--model", help="its new model (zero-downtime)"),
    entry_script: str | None = typer.Option(None, "--entry-script"),
    source_directory: Path | None = typer.Option(None, "--source-directory"),
    replicas: int | None = typer.Option(None, "--replicas"),
    traffic: str | None = TrafficOption,
    mirror_traffic: str | None = typer.Option(
        None, "--mirror-traffic", help="e.g. green=10 (a copy, answers dropped); '' for none"
    ),
    sample: Path | None = typer.Option(None, "--sample", help="the preflight's request body"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """Update a deployment's model (new replicas ready before the old stop) and/or traffic."""
    if model is None and traffic is None and mirror_traffic is None:
        raise InvalidValue("nothing to update: give --deployment with --model, or --traffic")
    with opened_workspace(workspace) as ws:
        if model is not None:
            if deployment is None:
                raise InvalidValue("--model needs --deployment NAME (the one to update)")
            current = endpoints.get_deployment(ws, name, deployment)
            request = current.to_request(
                model=model,
                entry_script=entry_script or current.entry_script,
                source_directory=str(source_directory)
                if source_directory
                else current.source_directory,
                replicas=replicas or current.replicas,
            )
            endpoints.update_deployment(ws, request, sample=_read(sample))
        if traffic is not None or mirror_traffic is not None:
            endpoints.set_traffic(
                ws,
                name,
                parse_traffic(traffic) if traffic is not None else None,
                parse_traffic(mirror_traffic) if mirror_traffic is not None else None,
            )
        _print_endpoint(endpoints.get_endpoint(ws, name), ws_deployments(ws, name), output)


@app.command()
def show(
    name: str = EndpointArgument,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """An endpoint, its traffic and its deployments (keys: `get-keys`)."""
    with opened_workspace(workspace) as ws:
        _print_endpoint(endpoints.get_endpoint(ws, name), ws_deployments(ws, name), output)


@app.command("list")
def list_(workspace: str | None = WorkspaceOption, output: OutputFormat = OutputOption) -> None:
    """Every endpoint of the workspace."""
    with opened_workspace(workspace) as ws:
        rows = [
            {
                **e.to_dict(),
                "traffic": format_split(e.traffic.split),
                "deployments": ", ".join(d.name for d in ws_deployments(ws, e.name)),
            }
            for e in endpoints.list_endpoints(ws)
        ]
    emit(output, rows, "Endpoints", LIST_COLUMNS)


@app.command()
def delete(
    name: str = EndpointArgument,
    deployment: str | None = typer.Option(None, "--deployment", help="only this deployment"),
    yes: bool = typer.Option(False, "--yes", "-y", help="don't ask"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Delete an endpoint (its front and every replica stop), or one of its deployments."""
    what = f"deployment {deployment} of endpoint {name}" if deployment else f"endpoint {name}"
    if not yes:
        typer.confirm(f"delete {what}?", abort=True)
    with opened_workspace(workspace) as ws:
        if deployment:
            endpoints.delete_deployment(ws, name, deployment)
        else:
            endpoints.delete_endpoint(ws, name)
    typer.echo(f"deleted {what}")


@app.command()
def invoke(
    name: str = EndpointArgument,
    request_file: Path | None = typer.Option(
        None, "--request-file", help="the body (default: stdin)"
    ),
    content_type: str = typer.Option("application/json", "--content-type"),
    deployment: str | None = typer.Option(None, "--deployment", help="pin one deployment"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """Send one request to the endpoint with its primary key; print the answer."""
    body = request_file.read_bytes() if request_file else sys.stdin.buffer.read()
    with opened_workspace(workspace) as ws:
        answer = endpoints.invoke(ws, name, body, content_type, deployment)
    typer.echo(answer.text)
    if not answer.is_success:
        raise typer.Exit(1)


@app.command("get-keys")
def get_keys(
    name: str = EndpointArgument,
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """The endpoint's primary and secondary keys."""
    with opened_workspace(workspace) as ws:
        keys = endpoints.get_keys(ws, name)
    _print_mapping(f"Keys of {name}", keys, output)


@app.command("regen-key")
def regen_key(
    name: str = EndpointArgument,
    key_type: str = typer.Option(..., "--key-type", help="primary or secondary"),
    workspace: str | None = WorkspaceOption,
    output: OutputFormat = OutputOption,
) -> None:
    """A new primary or secondary key; the old one stops working at once."""
    with opened_workspace(workspace) as ws:
        keys = endpoints.regen_key(ws, name, key_type)
    _print_mapping(f"Keys of {name}", keys, output)


@app.command()
def logs(
    name: str = EndpointArgument,
    deployment: str | None = typer.Option(None, "--deployment"),
    workspace: str | None = WorkspaceOption,
) -> None:
    """The end of each replica's log (and of the endpoint's front)."""
    with opened_workspace(workspace) as ws:
        typer.echo(endpoints.logs(ws, name, deployment))


def ws_deployments(ws: OpenWorkspace, name: str) -> list[Deployment]:
    return endpoints.list_deployments(ws, name)


def _print_endpoint(
    endpoint: Endpoint, deployments: list[Deployment], output: OutputFormat
) -> None:
    shown = endpoint.to_dict(deployments)
    if output is OutputFormat.JSON:
        emit_json(shown)
        return
    summary = {k: v for k, v in shown.items() if k != "deployments"}
    summary["traffic"] = format_split(endpoint.traffic.split)
    emit_mapping(f"Endpoint {endpoint.name}", summary, sort=False)
    if deployments:
        rows = [{**d.to_dict(), "replicas": _replicas_text(d)} for d in deployments]
        emit(output, rows, "Deployments", DEPLOYMENT_COLUMNS)


def _replicas_text(deployment: Deployment) -> str:
    scaling = deployment.autoscaling
    if scaling is None:
        return str(deployment.replicas)
    return (
        f"{scaling.min_replicas}–{scaling.max_replicas}, autoscaled at"
        f" {scaling.target_ongoing_requests:g} ongoing requests each"
    )


def _print_mapping(title: str, data: dict[str, str], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        emit_json(data)
    else:
        emit_mapping(title, data, sort=False)


def _environment(requirements: Path | None) -> str | None:
    """A requirements file as an environment's spec, built like a job's (cached by hash)."""
    if requirements is None:
        return None
    spec = Environment.from_pip_requirements(requirements.stem, requirements)
    return json.dumps(spec.to_dict())


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path else None
