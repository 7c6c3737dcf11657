"""Deployments on a ray compute. Each version of a deployment is one Ray Serve application on
the compute's cluster; the endpoint's front (on this machine, as for local deployments) sends
its share of traffic to the application's route behind Serve's HTTP proxy, so keys, the split,
pinning and mirroring are the front's, unchanged. Ray places, restarts and scales the replicas.

Bringing one up: the model's files, the entry script's folder, the endpoint's replica key and
the application's spec are staged into one folder that a Ray job takes as its working_dir (the
cluster needs no share of this disk); the job (`modelyard.serving.ray_serve deploy`) runs the
preflight on the cluster, then `serve.run`, which returns once every replica's init() passed.
Then the application must answer its readiness through the proxy with the replica key. Whatever
fails on the way, the application is deleted again: nothing is left running on the cluster.

An update is a new application (its own name and route) beside the old one, which the front
leaves only when the new one is ready; the old one is then deleted, as local replicas are.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from modelyard.compute.ray import serve_cluster
from modelyard.compute.ray.serve_cluster import JobOutcome, ServeCluster, ServeProxy
from modelyard.entities.compute import ComputeTarget, ComputeType, ProvisioningState
from modelyard.entities.endpoints import (
    SERVE_HANDLE_PREFIX,
    Deployment,
    DeploymentRequest,
    ReplicaHandle,
    RoutedReplica,
)
from modelyard.entities.registry import ModelVersion
from modelyard.environments import Environment
from modelyard.errors import (
    ComputeUnavailable,
    DeploymentFailed,
    InvalidValue,
    ModelyardError,
    NotFound,
)
from modelyard.fileio import write_json_atomic
from modelyard.services import computes, models
from modelyard.services import endpoint_processes as processes
from modelyard.services.leftovers import STAGING_FOLDER
from modelyard.services.workspaces import OpenWorkspace
from modelyard.serving.entry_script import resolve_entry_script
from modelyard.serving.ray_serve import (
    KEYS_FILE,
    MODEL_FOLDER,
    RESULT_MARKER,
    SAMPLE_FILE,
    SOURCE_FOLDER,
    SPEC_FILE,
    ServeSpec,
)

DEPLOY_TIMEOUT_S: Final = processes.PREFLIGHT_TIMEOUT_S + processes.READY_TIMEOUT_S
DELETE_TIMEOUT_S: Final = 120.0
SERVE_DEFAULT_PORT: Final = 8000  # Serve's own, for a cluster on other machines
DEPLOY_ENTRYPOINT: Final = "python -m modelyard.serving.ray_serve deploy"
DELETE_ENTRYPOINT: Final = "python -m modelyard.serving.ray_serve delete"
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})
_ANY_ADDRESS: Final = frozenset({"0.0.0.0", "::", ""})
_SKIPPED: Final = frozenset({"__pycache__", ".git"})
_LOG_TAIL_CHARS: Final = 3000


def ray_compute(ws: OpenWorkspace, name: str) -> ComputeTarget:
    """The ray compute a deployment names; a one-line refusal for any other."""
    compute = computes.get_compute(ws, name)
    if compute.type is not ComputeType.RAY:
        raise InvalidValue(
            f"compute {name} is a {compute.type.value} compute: deployments run on `local` (this"
            " machine) or a ray compute; fix: --compute local, or a ray compute's name",
            compute=name,
        )
    if compute.state is ProvisioningState.FAILED:
        reason = "; ".join(compute.errors) or "no reason recorded"
        raise InvalidValue(
            f"ray compute {name} is Failed ({reason}); fix: start its cluster, then delete and"
            f" create the compute again (`modelyard compute delete {name}`)",
            compute=name,
        )
    return compute


def bring_up(
    ws: OpenWorkspace,
    request: DeploymentRequest,
    version: ModelVersion,
    sample: bytes | None,
    keys_file: Path,
    log: Path,
) -> RoutedReplica:
    """The deployment's new Serve application, RUNNING and answering its readiness: what the
    front routes to. DeploymentFailed (the preflight's traceback, or Serve's reason) otherwise,
    with the application deleted again."""
    compute = ray_compute(ws, request.compute)
    cluster = ServeCluster(compute)
    _check_fits(cluster, request)
    spec = _spec(cluster, request, sample is not None)
    staged = _stage(ws, request, version, spec, keys_file, sample)
    try:
        with _deleted_on_failure(cluster, spec.app, log):
            replica = _run_application(cluster, request, spec, staged, log)
            processes.wait_ready(replica, _replica_key(keys_file))
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return replica


def delete_applications(
    ws: OpenWorkspace, compute_name: str, replicas: Sequence[ReplicaHandle], log: Path
) -> None:
    """Delete the deployment's Serve applications on its cluster. A compute deleted since
    leaves nothing to find them by; a cluster that does not answer is ComputeUnavailable."""
    apps = [r.serve_application for r in replicas if r.serve_application]
    if not apps:
        return
    try:
        compute = computes.get_compute(ws, compute_name)
    except NotFound:
        return
    cluster = ServeCluster(compute)
    present = [app for app in apps if cluster.application(app) is not None]
    if present:
        _delete(cluster, present, log)


class ServeGlance:
    """Serve's replicas of ray deployments, each cluster asked once (short timeouts) however
    many deployments and endpoints one listing shows; a cluster that does not answer counts
    none (a page listing endpoints must not wait on a cluster that is down)."""

    def __init__(self, ws: OpenWorkspace) -> None:
        self.ws = ws
        self._details: dict[str, dict[str, Any] | None] = {}

    def running_replicas(self, deployment: Deployment) -> int:
        apps = [r.serve_application for r in deployment.replica_handles if r.serve_application]
        details = self._details_of(deployment.compute) if apps else None
        if details is None:
            return 0
        return sum(serve_cluster.running_replicas(details, app) for app in apps)

    def _details_of(self, compute: str) -> dict[str, Any] | None:
        if compute not in self._details:
            try:
                cluster = ServeCluster(computes.get_compute(self.ws, compute))
                self._details[compute] = cluster.glance()
            except ModelyardError:
                self._details[compute] = None
        return self._details[compute]


def routed(name: str, replica: ReplicaHandle, log: Path) -> RoutedReplica:
    """A recorded application as the front routes to it."""
    index, port, handle = replica.index, replica.port, replica.handle
    return RoutedReplica(name, index, port, handle, (), str(log), replica.url)


# Bringing up ---------------------------------------------------------------------------------


def _check_fits(cluster: ServeCluster, request: DeploymentRequest) -> None:
    """One replica must fit on one node (Ray would leave it pending forever): checked first,
    which also finds a cluster that does not answer before anything is staged."""
    largest = cluster.capacity()
    if request.cpu_cores > largest.cpus or request.memory_gb > largest.memory_gib:
        raise InvalidValue(
            f"no node of ray compute {request.compute} ({cluster.address}) fits a replica of"
            f" {request.cpu_cores:g} CPUs and {request.memory_gb:g} GiB: the largest has"
            f" {largest.cpus:g} CPUs and {largest.memory_gib:.1f} GiB; fix: lower --cpu-cores"
            " or --memory-gb, or add a bigger node",
            compute=request.compute,
        )


def _spec(cluster: ServeCluster, request: DeploymentRequest, has_sample: bool) -> ServeSpec:
    token = secrets.token_hex(4)
    host, port = _proxy_options(cluster)
    entry_script = _staged_script(request)[1] if request.entry_script else None
    return ServeSpec(
        app=f"{request.endpoint}.{request.name}.{token}",
        route_prefix=f"/{request.endpoint}/{request.name}/{token}",
        http_host=host,
        http_port=port,
        num_cpus=request.cpu_cores,
        memory_bytes=int(request.memory_gb * 2**30),
        num_replicas=request.replicas,
        autoscaling=request.autoscaling,
        entry_script=entry_script,
        source_directory=SOURCE_FOLDER if entry_script else None,
        sample=SAMPLE_FILE if has_sample else None,
    )


def _proxy_options(cluster: ServeCluster) -> tuple[str, int]:
    """Serve's proxy as it runs; if Serve does not run yet, where this deploy starts it: on
    127.0.0.1 and a free port for a cluster on this machine, on every address and Serve's
    port 8000 for one on others (the first job that starts Serve decides; the proxy is read
    back from the cluster once the application runs)."""
    running = cluster.proxy()
    if running is not None:
        return running.host, running.port
    if _cluster_host(cluster) in _LOOPBACK:
        return "127.0.0.1", processes.free_port()
    return "0.0.0.0", SERVE_DEFAULT_PORT


def _staged_script(request: DeploymentRequest) -> tuple[Path, str]:
    """The folder that travels with the entry script, and the script's path inside it: the
    source directory, or the script's alone when there is none."""
    assert request.entry_script is not None
    source = Path(request.source_directory) if request.source_directory else None
    script = resolve_entry_script(Path(request.entry_script), source).resolve()
    if source is None:
        return script, script.name
    try:
        return source, script.relative_to(source.resolve()).as_posix()
    except ValueError:
        raise InvalidValue(
            f"entry script {str(script)!r} is outside --source-directory {str(source)!r}: only"
            " the source directory travels to a ray compute; fix: put the script in it",
            path=str(script),
        ) from None


def _stage(
    ws: OpenWorkspace,
    request: DeploymentRequest,
    version: ModelVersion,
    spec: ServeSpec,
    keys_file: Path,
    sample: bytes | None,
) -> Path:
    folder = ws.cache_dir / STAGING_FOLDER / f"serve-{secrets.token_hex(8)}"
    try:
        folder.mkdir(parents=True)
        _copy(models.model_dir(ws, version.reference), folder / MODEL_FOLDER)
        if request.entry_script:
            _copy(_staged_script(request)[0], folder / SOURCE_FOLDER)
        write_json_atomic(folder / KEYS_FILE, json.loads(keys_file.read_text()), mode=0o600)
        if sample is not None:
            (folder / SAMPLE_FILE).write_bytes(sample)
        write_json_atomic(folder / SPEC_FILE, spec.to_dict())
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _copy(source: Path, target: Path) -> None:
    """Plain copies, without the files' modes: the model cache's files are read-only, and the
    staged folder is removed once the job has uploaded it."""
    if source.is_file():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / source.name)
        return
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if _SKIPPED & set(relative.parts):
            continue
        destination = target / relative
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    target.mkdir(parents=True, exist_ok=True)


def _runtime_env(folder: Path, request: DeploymentRequest) -> dict[str, Any]:
    """The staged folder as working_dir (Serve's replicas inherit the job's runtime_env), and
    the environment's pip packages, which Ray installs on top of the cluster's Python."""
    runtime_env: dict[str, Any] = {
        "working_dir": str(folder),
        "env_vars": {"PYTHONUNBUFFERED": "1"},
    }
    if request.environment is not None:
        environment = Environment.from_json(request.environment)
        if environment.python is not None:
            raise InvalidValue(
                f"environment {environment.name!r} names a Python ({environment.python}); a ray"
                " compute runs its nodes' Python; fix: leave the environment's python out"
            )
        if environment.pip_requirements:
            runtime_env["pip"] = list(environment.pip_requirements)
    return runtime_env


def _run_application(
    cluster: ServeCluster, request: DeploymentRequest, spec: ServeSpec, staged: Path, log: Path
) -> RoutedReplica:
    outcome = cluster.run_job(
        f"modelyard-serve-{spec.app.replace('.', '-')}",
        DEPLOY_ENTRYPOINT,
        _runtime_env(staged, request),
        DEPLOY_TIMEOUT_S,
    )
    _append_log(log, f"deploy {spec.app}", outcome.log)
    if not outcome.succeeded:
        raise _deploy_failure(cluster, request, spec, outcome)
    proxy = cluster.proxy()
    if proxy is None:  # Serve stopped on the cluster since
        raise DeploymentFailed(
            f"deployment {request.name}: Ray Serve is not running on {cluster.address} any"
            " more; fix: deploy again",
            deployment=request.name,
        )
    url = f"http://{_reachable_host(cluster, proxy)}:{proxy.port}{spec.route_prefix}"
    handle = SERVE_HANDLE_PREFIX + spec.app
    return RoutedReplica(request.name, 0, proxy.port, handle, (), str(log), url)


def _deploy_failure(
    cluster: ServeCluster, request: DeploymentRequest, spec: ServeSpec, outcome: JobOutcome
) -> DeploymentFailed:
    where = f"ray compute {request.compute}"
    result = _result(outcome.log)
    if outcome.timed_out:
        app = cluster.application(spec.app)
        said = f"; Serve says: {app.message}" if app and app.message else ""
        message = f"was not running on {where} within {DEPLOY_TIMEOUT_S:.0f} s{said}"
    elif result is not None and result.get("stage") == "preflight":
        message = f"failed its preflight on {where}: {result.get('message')}"
    elif result is not None:
        message = f"failed on {where}: {result.get('message')}"
    else:
        reason = outcome.message or "its job ended without a result"
        message = f"failed on {where}: {reason}\n{outcome.log[-_LOG_TAIL_CHARS:]}"
    detail = result.get("traceback") if result else None
    return DeploymentFailed(
        f"deployment {request.name} {message}" + (f"\n{str(detail).rstrip()}" if detail else ""),
        deployment=request.name,
        compute=request.compute,
    )


def _result(log: str) -> dict[str, Any] | None:
    """The job's result line (the last one, should a script print the marker too)."""
    for line in reversed(log.splitlines()):
        if line.startswith(RESULT_MARKER):
            try:
                found = json.loads(line.removeprefix(RESULT_MARKER))
            except json.JSONDecodeError:
                return None
            return found if isinstance(found, dict) else None
    return None


def _reachable_host(cluster: ServeCluster, proxy: ServeProxy) -> str:
    cluster_host = _cluster_host(cluster)
    if proxy.host in _ANY_ADDRESS:
        return cluster_host
    if proxy.host in _LOOPBACK and cluster_host not in _LOOPBACK:
        raise ComputeUnavailable(
            f"Ray Serve's proxy on {cluster.address} listens on {proxy.host} only, out of this"
            " machine's reach; fix: start Serve there on every address (`serve start"
            " --http-host 0.0.0.0`)",
            address=cluster.address,
        )
    return proxy.host


def _cluster_host(cluster: ServeCluster) -> str:
    return urlsplit(cluster.address).hostname or "127.0.0.1"


def _replica_key(keys_file: Path) -> str:
    return str(json.loads(keys_file.read_text())["primaryKey"])


# Deleting ------------------------------------------------------------------------------------


def _delete(cluster: ServeCluster, apps: list[str], log: Path) -> None:
    outcome = cluster.run_job(
        f"modelyard-serve-delete-{secrets.token_hex(6)}",
        f"{DELETE_ENTRYPOINT} {' '.join(apps)}",
        {"env_vars": {"PYTHONUNBUFFERED": "1"}},
        DELETE_TIMEOUT_S,
    )
    _append_log(log, f"delete {' '.join(apps)}", outcome.log)
    if not outcome.succeeded:
        result = _result(outcome.log) or {}
        reason = result.get("message") or outcome.message or "its job failed"
        raise ComputeUnavailable(
            f"the Ray cluster at {cluster.address} did not delete Serve application(s)"
            f" {', '.join(apps)}: {reason}; fix: delete again, or `serve shutdown` there",
            address=cluster.address,
        )


@contextlib.contextmanager
def _deleted_on_failure(cluster: ServeCluster, app: str, log: Path) -> Iterator[None]:
    """Whatever fails once the deploy job was submitted, the application goes (it may have
    been started already); the first failure is the one raised."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            if cluster.application(app) is not None:
                _delete(cluster, [app], log)
        raise


def _append_log(log: Path, title: str, text: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"==> Ray job: {title} <==\n{text.rstrip()}\n")
