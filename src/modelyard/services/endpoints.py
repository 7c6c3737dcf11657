"""Online endpoints: create, deploy, update with no downtime, traffic, keys, invoke, logs,
delete. CLI, SDK and REST call these; nothing else decides.

How it runs (embedded and server mode alike):
- a deployment on `local` is N replica processes (`python -m modelyard.serving`) on free ports
  of 127.0.0.1, started detached and recorded by handle in the store; one on a ray compute is
  a Ray Serve application on its cluster (`ray_deployments.py`), recorded by its name and its
  route behind Serve's proxy, which the front treats as one more replica to send to;
- each endpoint has one host process on its own port (runtime/endpoint_host.py): the front that
  checks the key, picks a deployment by the traffic split or the pin header, forwards to a live
  replica and mirrors a share; and the supervisor that starts a dead replica again on its port;
- the service tells the host what to do only through the endpoint's routing file
  (`<workspace>/endpoints/<name>/routing.json`, replaced atomically): keys, traffic, replicas.
  The front reads it again when it changes, so a regenerated key stops working at the next
  request, and a new deployment takes traffic as soon as the file names it;
- a workspace server's background loop starts an endpoint's host again if the host died
  (`ensure_hosts`); without a server, any command that changes the endpoint does the same,
  and so does `invoke`;
- the host also follows the registry: a deployment made from `NAME@ALIAS` rolls (a
  zero-downtime update) once the alias moves, embedded or served alike (`follow_aliases`).

A deployment is only ever published to the front after its preflight (init() and one sample
request, on the cluster for a ray compute) passed and every replica answered /health/ready:
traffic never reaches a broken one.
Operations on one endpoint are serialised by a file lock in its folder.

A workspace behind a server asks the server (`store/rest_endpoints.py`), whose replicas run on
its machine: a deployment's entry script and source directory travel with the request as one
archive (`deployment_archive`), which the server unpacks into the endpoint's `code/` folder
(`endpoint_upload`); `invoke` calls the endpoint's front on the server's host with a key the
server gives.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import httpx

from modelyard.entities.endpoints import (
    Deployment,
    DeploymentRequest,
    DeploymentState,
    Endpoint,
    EndpointHealth,
    ReplicaHandle,
    RoutedReplica,
    RoutingTable,
)
from modelyard.entities.names import validate_endpoint_name
from modelyard.entities.registry import ModelVersion, parse_model_reference
from modelyard.environments import Environment, EnvironmentBuilder
from modelyard.errors import DeploymentFailed, InvalidValue, ModelyardError, NotFound
from modelyard.fileio import exclusive_lock, write_json_atomic
from modelyard.services import deployment_archive, models, ray_deployments
from modelyard.services import endpoint_processes as processes
from modelyard.services.endpoint_processes import ReplicaSpec
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    from modelyard.store.rest_endpoints import RestEndpoints

ENDPOINTS_FOLDER: Final = "endpoints"
CODE_FOLDER: Final = "code"  # deployments' code uploaded by clients of a server, one folder each
ROUTING_FILE: Final = "routing.json"
REPLICA_KEYS_FILE: Final = "replica-keys.json"
HOST_LOG: Final = "host.log"
KEY_NAMES: Final = ("primary", "secondary")


def endpoint_dir(ws: OpenWorkspace, name: str) -> Path:
    return ws.root / ENDPOINTS_FOLDER / validate_endpoint_name(name)


def uploaded_code_dir(ws: OpenWorkspace, name: str) -> Path:
    """Where the code clients upload with the endpoint's deployments is kept (the only code a
    deployment asked for over the API may run)."""
    return endpoint_dir(ws, name) / CODE_FOLDER


# Endpoints -----------------------------------------------------------------------------------


def create_endpoint(
    ws: OpenWorkspace, name: str, port: int | None = None, description: str | None = None
) -> Endpoint:
    """A new endpoint with fresh keys, its host listening on `port` (a free one if None)."""
    validate_endpoint_name(name)
    if ws.server_url is not None:
        return _remote(ws).create_endpoint(name, port, description)
    if port is not None:
        processes.check_port_free(port, ws.settings.endpoint_listen_host)
    store = ws.endpoint_store
    store.create_endpoint(
        name,
        port or processes.free_port(ws.settings.endpoint_listen_host),
        (_new_key(), _new_key()),
        description,
    )
    folder = endpoint_dir(ws, name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_json_atomic(folder / REPLICA_KEYS_FILE, {"primaryKey": _new_key()}, mode=0o600)
        with _locked(ws, name):
            _publish(ws, name)  # starts its host
    except BaseException:  # e.g. the port taken since it was checked: no endpoint half-made
        processes.stop(store.get_endpoint(name).host_handle)
        store.delete_endpoint(name)
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return store.get_endpoint(name)


def get_endpoint(ws: OpenWorkspace, name: str) -> Endpoint:
    validate_endpoint_name(name)
    if ws.server_url is not None:
        return _remote(ws).get_endpoint(name)
    return ws.endpoint_store.get_endpoint(name)


def list_endpoints(ws: OpenWorkspace) -> list[Endpoint]:
    if ws.server_url is not None:
        return _remote(ws).list_endpoints()
    return ws.endpoint_store.list_endpoints()


def get_deployment(ws: OpenWorkspace, endpoint: str, name: str) -> Deployment:
    validate_endpoint_name(endpoint)
    if ws.server_url is not None:
        return _remote(ws).get_deployment(endpoint, name)
    return ws.endpoint_store.get_deployment(endpoint, name)


def list_deployments(ws: OpenWorkspace, endpoint: str) -> list[Deployment]:
    validate_endpoint_name(endpoint)
    if ws.server_url is not None:
        return _remote(ws).list_deployments(endpoint)
    return ws.endpoint_store.list_deployments(endpoint)


def list_with_health(
    ws: OpenWorkspace,
) -> list[tuple[Endpoint, list[Deployment], EndpointHealth]]:
    """Every endpoint with its deployments and health: the deployments read at once, each
    ray cluster asked once however many endpoints deploy to it."""
    by_endpoint: dict[str, list[Deployment]] = {}
    for deployment in ws.endpoint_store.list_deployments():
        by_endpoint.setdefault(deployment.endpoint, []).append(deployment)
    glance = ray_deployments.ServeGlance(ws)
    listed = []
    for endpoint in list_endpoints(ws):
        deployments = by_endpoint.get(endpoint.name, [])
        listed.append((endpoint, deployments, health(ws, endpoint, deployments, glance)))
    return listed


def health(
    ws: OpenWorkspace,
    endpoint: Endpoint,
    deployments: list[Deployment],
    glance: ray_deployments.ServeGlance | None = None,
) -> EndpointHealth:
    """Which of the endpoint's processes run now: their handles looked up on this machine, no
    request sent, so a page listing endpoints stays cheap however many there are; a ray
    deployment's replicas are Serve's count, each cluster asked once per `glance` (one per
    listing: pass the same one for every endpoint listed)."""
    glance = glance or ray_deployments.ServeGlance(ws)
    return EndpointHealth(
        front_running=endpoint.host_handle is not None
        and processes.is_running(endpoint.host_handle),
        replicas_running={d.name: _running_replicas(glance, d) for d in deployments},
    )


def _running_replicas(glance: ray_deployments.ServeGlance, deployment: Deployment) -> int:
    if deployment.on_cluster:
        return glance.running_replicas(deployment)
    return sum(processes.is_running(r.handle) for r in deployment.replica_handles)


def delete_endpoint(ws: OpenWorkspace, name: str) -> None:
    """Deletes its Serve applications first (a cluster that does not answer changes nothing
    here), then stops the host (no more traffic) and every local replica; then forgets it."""
    if ws.server_url is not None:
        _remote(ws).delete_endpoint(validate_endpoint_name(name))
        return
    endpoint = get_endpoint(ws, name)
    with _locked(ws, name):
        deployments = list_deployments(ws, name)
        for deployment in (d for d in deployments if d.on_cluster):
            _stop_replicas(ws, deployment)
        processes.stop(endpoint.host_handle)
        for deployment in (d for d in deployments if not d.on_cluster):
            _stop_replicas(ws, deployment)
        ws.endpoint_store.delete_endpoint(name)
    shutil.rmtree(endpoint_dir(ws, name), ignore_errors=True)


# Deploying -----------------------------------------------------------------------------------


def deploy(
    ws: OpenWorkspace,
    request: DeploymentRequest,
    *,
    port: int | None = None,
    traffic: dict[str, int] | None = None,
    sample: bytes | None = None,
) -> Deployment:
    """Deploy a model version to an endpoint (created if it doesn't exist, on `port`).

    The model is resolved first (a missing version is a one-line error); the deployment is
    recorded Creating; the preflight runs; the replicas start and must all be ready; only then
    is it Succeeded and published. Any failure: Failed with the reason (the script's traceback),
    and nothing of it left running. The first deployment of an endpoint takes all its traffic.
    """
    request = request.check()
    if ws.server_url is not None:
        body = deployment_archive.describe(request, port=port, traffic=traffic)
        return _send(ws, request, body, sample, current=None)
    request = _checked_here(ws, request)
    version = models.get_model_version(ws, request.model)
    endpoint = _get_or_create(ws, request.endpoint, port)
    store = ws.endpoint_store
    with _locked(ws, endpoint.name):
        deployment = store.create_deployment(request, version.name, version.version)
        try:
            replicas = _bring_up(ws, request, version, sample)
        except ModelyardError as error:
            store.set_deployment_state(
                endpoint.name, request.name, DeploymentState.FAILED, error=error.message
            )
            raise
        deployment = store.set_deployment_state(
            endpoint.name, request.name, DeploymentState.SUCCEEDED, replicas=_handles(replicas)
        )
        _route_new(ws, endpoint.name, request.name, traffic)
        _publish(ws, endpoint.name)
    return deployment


def update_deployment(
    ws: OpenWorkspace, request: DeploymentRequest, sample: bytes | None = None
) -> Deployment:
    """Zero-downtime update: new replicas start and pass their preflight and readiness while the
    old ones serve; the front switches to the new ones; then the old ones stop. A failed update
    leaves the old replicas serving (Succeeded, with the failure recorded as its error)."""
    request = request.check()
    if ws.server_url is not None:
        current = get_deployment(ws, request.endpoint, request.name)
        return _send(ws, request, deployment_archive.describe(request), sample, current)
    request = _checked_here(ws, request)
    version = models.get_model_version(ws, request.model)
    store = ws.endpoint_store
    with _locked(ws, request.endpoint):
        old = store.set_deployment_state(request.endpoint, request.name, DeploymentState.UPDATING)
        try:
            replicas = _bring_up(ws, request, version, sample)
        except ModelyardError as error:
            store.set_deployment_state(
                request.endpoint,
                request.name,
                DeploymentState.SUCCEEDED,
                error=f"{_update_failed(version)}, still serving {old.resolved_model}: "
                f"{error.message}",
            )
            raise
        updated = store.finish_update(request, version.name, version.version, _handles(replicas))
        _publish(ws, request.endpoint)  # the front now sends to the new replicas only
        try:
            _stop_replicas(ws, old)
        except ModelyardError as error:  # the update is done; what is left is said, not raised
            updated = store.set_deployment_state(
                request.endpoint,
                request.name,
                DeploymentState.SUCCEEDED,
                error=f"updated; the old version's replicas were not stopped: {error.message}",
            )
        if old.source_directory != updated.source_directory:
            _drop_uploaded_code(ws, old)
    return updated


def _send(
    ws: OpenWorkspace,
    request: DeploymentRequest,
    body: dict[str, Any],
    sample: bytes | None,
    current: Deployment | None,
) -> Deployment:
    """A deploy or update asked of the server: with the code from this machine when it names
    some (one archive), as JSON when it names none or the code the server already has."""
    body = {**body, "sample": deployment_archive.encoded(sample)}
    update = current is not None
    if not deployment_archive.uploads_code(request, current):
        return _remote(ws).send_deployment(request.endpoint, request.name, body, None, update)
    with deployment_archive.packed_deployment(request, body) as archive:
        return _remote(ws).send_deployment(request.endpoint, request.name, body, archive, update)


def delete_deployment(ws: OpenWorkspace, endpoint: str, name: str) -> None:
    """Refused while it takes traffic; otherwise unpublished, stopped and forgotten."""
    if ws.server_url is not None:
        _remote(ws).delete_deployment(validate_endpoint_name(endpoint), name)
        return
    current = get_endpoint(ws, endpoint)
    if current.traffic.split.get(name, 0) > 0:
        raise InvalidValue(
            f"deployment {name} takes {current.traffic.split[name]}% of {endpoint}'s traffic;"
            f" fix: move it first (`modelyard endpoint update {endpoint} --traffic …`)"
        )
    store = ws.endpoint_store
    with _locked(ws, endpoint):
        deployment = store.set_deployment_state(endpoint, name, DeploymentState.DELETING)
        _publish(ws, endpoint)  # a Deleting deployment is routed no more
        # Stopped before it is forgotten: a cluster that does not answer leaves it Deleting,
        # and deleting it again tries again.
        _stop_replicas(ws, deployment)
        if current.traffic.mirror == name:
            store.set_traffic(endpoint, current.traffic.without(name))
        store.delete_deployment(endpoint, name)
        _publish(ws, endpoint)
        _drop_uploaded_code(ws, deployment)


def _bring_up(
    ws: OpenWorkspace, request: DeploymentRequest, version: ModelVersion, sample: bytes | None
) -> list[RoutedReplica]:
    if request.on_cluster:
        keys = endpoint_dir(ws, request.endpoint) / REPLICA_KEYS_FILE
        log = _ray_log(ws, request.endpoint, request.name)
        return [ray_deployments.bring_up(ws, request, version, sample, keys, log)]
    spec = _replica_spec(ws, request, version.reference)
    outcome = processes.run_preflight(spec, sample)
    if not outcome.ok:
        detail = f"\n{outcome.traceback.rstrip()}" if outcome.traceback else ""
        raise DeploymentFailed(
            f"deployment {request.name} failed its preflight: {outcome.message}{detail}",
            deployment=request.name,
        )
    return _start_replicas(ws, request, spec)


def _start_replicas(
    ws: OpenWorkspace, request: DeploymentRequest, spec: ReplicaSpec
) -> list[RoutedReplica]:
    logs = endpoint_dir(ws, request.endpoint) / "logs"
    started: list[RoutedReplica] = []
    try:
        for index in range(request.replicas):
            port = processes.free_port()
            planned = RoutedReplica(
                request.name,
                index,
                port,
                "",
                tuple(spec.argv(port, index)),
                str(logs / f"{request.name}-{index}.log"),
            )
            started.append(processes.start_replica(planned))
        key = _replica_key(ws, request.endpoint)
        for replica in started:
            processes.wait_ready(replica, key)
    except BaseException:
        for replica in started:
            processes.stop(replica.handle)
        raise
    return started


def _route_new(
    ws: OpenWorkspace, endpoint: str, deployment: str, traffic: dict[str, int] | None
) -> None:
    store = ws.endpoint_store
    current = store.get_endpoint(endpoint).traffic
    if traffic is not None:
        store.set_traffic(endpoint, replace(current, split=traffic))
    elif not current.split:
        store.set_traffic(endpoint, replace(current, split={deployment: 100}))


# Traffic and keys ----------------------------------------------------------------------------


def set_traffic(
    ws: OpenWorkspace,
    endpoint: str,
    split: dict[str, int] | None = None,
    mirror: dict[str, int] | None = None,
) -> Endpoint:
    """The split (must sum to 100) and/or the mirror (`{deployment: percent}`, or {} for none)."""
    if ws.server_url is not None:
        return _remote(ws).set_traffic(validate_endpoint_name(endpoint), split, mirror)
    current = get_endpoint(ws, endpoint).traffic
    traffic = current if split is None else replace(current, split=split)
    if mirror is not None:
        if len(mirror) > 1:
            raise InvalidValue("only one deployment can mirror traffic")
        ((name, percent),) = mirror.items() if mirror else ((None, 0),)
        traffic = replace(traffic, mirror=name, mirror_percent=percent)
    with _locked(ws, endpoint):
        updated = ws.endpoint_store.set_traffic(endpoint, traffic)
        _publish(ws, endpoint)
    return updated


def get_keys(ws: OpenWorkspace, endpoint: str) -> dict[str, str]:
    if ws.server_url is not None:
        return _remote(ws).get_keys(validate_endpoint_name(endpoint))
    found = get_endpoint(ws, endpoint)
    return {"primaryKey": found.primary_key, "secondaryKey": found.secondary_key}


def regen_key(ws: OpenWorkspace, endpoint: str, which: str) -> dict[str, str]:
    """A new primary or secondary key: the old one is refused from the front's next request."""
    which = which.strip().lower()
    if which not in KEY_NAMES:
        raise InvalidValue(f"key {which!r} is not primary or secondary")
    if ws.server_url is not None:
        return _remote(ws).regen_key(validate_endpoint_name(endpoint), which)
    with _locked(ws, endpoint):
        ws.endpoint_store.set_endpoint_key(endpoint, which, _new_key())
        _publish(ws, endpoint)
    return get_keys(ws, endpoint)


# Calling and watching ------------------------------------------------------------------------


def invoke(
    ws: OpenWorkspace,
    endpoint: str,
    body: bytes,
    content_type: str = "application/json",
    deployment: str | None = None,
    timeout_s: float = 60.0,
) -> httpx.Response:
    """One request through the endpoint's front, with its primary key (as a caller would).
    Behind a server, the front listens on the server's host, and the key is the server's."""
    found = get_endpoint(ws, endpoint)
    key = found.primary_key
    if ws.server_url is not None:
        key = get_keys(ws, endpoint)["primaryKey"]
    elif not (found.host_handle and processes.is_running(found.host_handle)):
        ensure_hosts(ws)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": content_type}
    if deployment:
        headers["x-modelyard-deployment"] = deployment
    try:
        return httpx.post(found.scoring_uri, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as error:
        # An endpoint's front listens on its machine's loopback only.
        served = "; its front takes calls on the server's machine only" if ws.server_url else ""
        raise NotFound(
            f"endpoint {endpoint} does not answer at {found.scoring_uri} ({error}); "
            f"`modelyard endpoint show {endpoint}` says why{served}"
        ) from None


def logs(
    ws: OpenWorkspace, endpoint: str, deployment: str | None = None, chars: int = 20000
) -> str:
    """The tail of each replica's log (and the host's), headed by whose it is."""
    if ws.server_url is not None:
        return _remote(ws).logs(validate_endpoint_name(endpoint), deployment)
    found = get_endpoint(ws, endpoint)
    folder = endpoint_dir(ws, found.name) / "logs"
    names = [deployment] if deployment else [d.name for d in list_deployments(ws, endpoint)]
    parts = []
    for log in sorted(folder.glob("*.log")) if folder.is_dir() else []:
        if log.name == HOST_LOG or log.stem.rsplit("-", 1)[0] in names:
            parts.append(f"==> {log.name} <==\n{processes.log_tail(log, chars)}")
    return "\n".join(parts)


def ensure_hosts(ws: OpenWorkspace) -> None:
    """Start again the host of any endpoint whose host died (the server's background loop)."""
    for endpoint in list_endpoints(ws):
        if endpoint.host_handle is None or not processes.is_running(endpoint.host_handle):
            with _locked(ws, endpoint.name):
                _ensure_host(ws, ws.endpoint_store.get_endpoint(endpoint.name))


def follow_aliases(ws: OpenWorkspace, endpoint: str | None = None) -> list[Deployment]:
    """Roll every Succeeded deployment (of `endpoint`, or of all) made from `NAME@ALIAS` whose
    alias now names another version (a zero-downtime update each); moving `champion` rolls the
    model. Each endpoint's host calls this for its own deployments every few seconds, with or
    without a server; the updated deployments are answered. A roll that fails leaves the old
    version serving with the failure as its error, and is not tried again for that version
    (moving the alias again, or `endpoint update`, does)."""
    rolled = []
    for deployment in ws.endpoint_store.list_deployments(endpoint):
        if deployment.state is not DeploymentState.SUCCEEDED:
            continue
        reference = parse_model_reference(deployment.model)
        if reference.alias is None:
            continue
        try:
            now = models.get_model_version(ws, reference)
        except NotFound:  # the alias was deleted: keep serving what it named
            continue
        tried = (deployment.error or "").startswith(_update_failed(now))
        if now.version != deployment.model_version and not tried:  # a failed roll: once
            rolled.append(_roll(ws, deployment))
    return [d for d in rolled if d is not None]


def _update_failed(version: ModelVersion) -> str:
    return f"update to {version.reference} failed"


def _roll(ws: OpenWorkspace, deployment: Deployment) -> Deployment | None:
    try:
        return update_deployment(ws, deployment.to_request())
    except ModelyardError:
        return None


# Internals -----------------------------------------------------------------------------------


def _get_or_create(ws: OpenWorkspace, name: str, port: int | None) -> Endpoint:
    try:
        found = get_endpoint(ws, name)
    except NotFound:
        return create_endpoint(ws, name, port)
    if port is not None and port != found.port:
        raise InvalidValue(
            f"endpoint {name} already listens on port {found.port}, not {port}; "
            "fix: leave --port out, or deploy to a new endpoint"
        )
    return found


def _publish(ws: OpenWorkspace, name: str) -> None:
    """Write the routing file the endpoint's front and supervisor follow, and start the host
    again if it is not running (so any change to an endpoint also revives its front)."""
    endpoint = ws.endpoint_store.get_endpoint(name)
    replicas: list[RoutedReplica] = []
    for deployment in ws.endpoint_store.list_deployments(name):
        if deployment.state.serves:
            replicas += _routed(ws, deployment)
    table = RoutingTable(
        endpoint=name,
        keys=(endpoint.primary_key, endpoint.secondary_key),
        replica_key=_replica_key(ws, name),
        traffic=endpoint.traffic,
        replicas=tuple(replicas),
    )
    write_json_atomic(endpoint_dir(ws, name) / ROUTING_FILE, table.to_dict(), mode=0o600)
    _ensure_host(ws, endpoint)


def _replica_spec(
    ws: OpenWorkspace, deployment: DeploymentRequest | Deployment, model: str
) -> ReplicaSpec:
    return ReplicaSpec(
        model_dir=models.model_dir(ws, model),
        entry_script=deployment.entry_script,
        source_directory=deployment.source_directory,
        keys_file=endpoint_dir(ws, deployment.endpoint) / REPLICA_KEYS_FILE,
        python=_python_for(ws, deployment.endpoint, deployment.environment),
        cpu_cores=deployment.cpu_cores,
        memory_gb=deployment.memory_gb,
    )


def _routed(ws: OpenWorkspace, deployment: Deployment) -> list[RoutedReplica]:
    if deployment.on_cluster:
        log = _ray_log(ws, deployment.endpoint, deployment.name)
        return [ray_deployments.routed(deployment.name, r, log) for r in deployment.replica_handles]
    spec = _replica_spec(ws, deployment, deployment.resolved_model)
    logs = endpoint_dir(ws, deployment.endpoint) / "logs"
    return [
        RoutedReplica(
            deployment.name,
            replica.index,
            replica.port,
            replica.handle,
            tuple(spec.argv(replica.port, replica.index)),
            str(logs / f"{deployment.name}-{replica.index}.log"),
        )
        for replica in deployment.replica_handles
    ]


def _ensure_host(ws: OpenWorkspace, endpoint: Endpoint) -> None:
    if endpoint.host_handle and processes.is_running(endpoint.host_handle):
        return
    folder = endpoint_dir(ws, endpoint.name)
    argv = [
        sys.executable,
        "-m",
        "modelyard.runtime.endpoint_host",
        "--workspace",
        str(ws.root),
        "--routing",
        str(folder / ROUTING_FILE),
        "--port",
        str(endpoint.port),
        "--host",
        ws.settings.endpoint_listen_host,
    ]
    handle = processes.start_detached(argv, folder / "logs" / HOST_LOG)
    ws.endpoint_store.set_endpoint_host(endpoint.name, handle.to_string())
    processes.wait_host(
        ws.settings.endpoint_listen_host,
        endpoint.port,
        handle.to_string(),
        folder / "logs" / HOST_LOG,
    )


def _python_for(ws: OpenWorkspace, endpoint: str, environment: str | None) -> str:
    """The interpreter of the deployment's environment, built like a job's (once per spec
    hash, cached in the workspace); this Python when none is given."""
    if environment is None:
        return sys.executable
    spec = Environment.from_json(environment)
    log = endpoint_dir(ws, endpoint) / "logs" / "environment.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        return str(EnvironmentBuilder(ws.cache_dir / "environments").python_for(spec, log=out))


def _stop_replicas(ws: OpenWorkspace, deployment: Deployment) -> None:
    """Its replica processes, or its Serve applications on its cluster."""
    if deployment.on_cluster:
        log = _ray_log(ws, deployment.endpoint, deployment.name)
        ray_deployments.delete_applications(ws, deployment.compute, deployment.replica_handles, log)
        return
    for replica in deployment.replica_handles:
        processes.stop(replica.handle)


def _ray_log(ws: OpenWorkspace, endpoint: str, deployment: str) -> Path:
    """The Ray jobs' logs of a deployment on a ray compute (its replicas log on the cluster)."""
    return endpoint_dir(ws, endpoint) / "logs" / f"{deployment}-ray.log"


def _handles(replicas: list[RoutedReplica]) -> list[ReplicaHandle]:
    return [r.handle_record() for r in replicas if r.handle]


def _replica_key(ws: OpenWorkspace, endpoint: str) -> str:
    document = json.loads((endpoint_dir(ws, endpoint) / REPLICA_KEYS_FILE).read_text())
    return str(document["primaryKey"])


def _checked_here(ws: OpenWorkspace, request: DeploymentRequest) -> DeploymentRequest:
    """Refused before anything is recorded, on the machine that deploys: a compute that is not
    `local` or a usable ray compute, paths that are not there."""
    if request.on_cluster:
        ray_deployments.ray_compute(ws, request.compute)
    return _absolute_paths(request)


def _absolute_paths(request: DeploymentRequest) -> DeploymentRequest:
    """The replicas run elsewhere (cwd): a source directory is kept as an absolute path."""
    if request.environment is not None:
        Environment.from_json(request.environment)  # a bad spec: refused before anything runs
    if request.source_directory:
        source = deployment_archive.existing_folder(request.source_directory)
        return replace(request, source_directory=str(source))
    if request.entry_script:
        script = deployment_archive.existing_script(request.entry_script)
        return replace(request, entry_script=str(script))
    return request


def _drop_uploaded_code(ws: OpenWorkspace, deployment: Deployment) -> None:
    """The folder of code a client uploaded for `deployment`, once nothing runs it; a source
    directory of this machine's own (an embedded deploy's) is never touched."""
    if deployment.source_directory is None:
        return
    folder = Path(deployment.source_directory).resolve()
    if folder.parent == uploaded_code_dir(ws, deployment.endpoint).resolve():
        shutil.rmtree(folder, ignore_errors=True)


def _remote(ws: OpenWorkspace) -> RestEndpoints:
    from modelyard.store.rest_endpoints import RestEndpoints  # only where a server is used

    return RestEndpoints(ws.rest_store.client)


def _new_key() -> str:
    return secrets.token_urlsafe(32)


@contextlib.contextmanager
def _locked(ws: OpenWorkspace, name: str) -> Iterator[None]:
    with exclusive_lock(endpoint_dir(ws, name) / ".lock"):
        yield
