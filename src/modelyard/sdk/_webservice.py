"""Azure ML's v1 deployment objects: `InferenceConfig`, `LocalWebservice`, `RayWebservice`
(Azure's `AksWebservice`, on a ray compute) and the web service that `Model.deploy` returns.
Thin over `services.endpoints`: a web service is an endpoint with one deployment (named
"default" unless told), as Azure's are.

    service = Model.deploy(ws, "doubler", [model], InferenceConfig(entry_script="score.py",
                           source_directory="src"), LocalWebservice.deploy_configuration(port=0))
    service.wait_for_deployment(show_output=True)
    service.run(json.dumps({"x": 3}))

    config = RayWebservice.deploy_configuration(autoscale_enabled=True,
                                                autoscale_min_replicas=1, autoscale_max_replicas=4)
    service = Model.deploy(ws, "doubler", [model], inference, config, deployment_target=ray_pool)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from modelyard.entities.endpoints import DeploymentRequest, DeploymentState
from modelyard.errors import ERROR_CLASSES, InvalidValue, ModelyardError
from modelyard.services import endpoints
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    from modelyard.environments import Environment


class _RegisteredModel(Protocol):
    """The SDK's `Model` (sdk/_model.py, which imports this module), as far as deploying needs."""

    @property
    def id(self) -> str: ...


class _NamedCompute(Protocol):
    """The SDK's `ComputeTarget`, as far as deploying needs."""

    @property
    def name(self) -> str: ...


DEFAULT_DEPLOYMENT = "default"


@dataclass(frozen=True)
class InferenceConfig:
    """The entry script (`init()`/`run()`) and its folder; none for the no-code image scorer.
    The environment is built like a job's (a venv per spec hash); none: this Python's."""

    entry_script: str | None = None
    environment: Environment | None = None
    source_directory: str | None = None


@dataclass(frozen=True)
class LocalWebserviceDeploymentConfiguration:
    port: int | None = None
    replicas: int = 1
    cpu_cores: float = 1.0
    memory_gb: float = 1.0


@dataclass(frozen=True)
class RayWebserviceDeploymentConfiguration:
    """A deployment on a ray compute (named here or by `Model.deploy`'s deployment_target): a
    fixed `num_replicas`, or autoscaling between the bounds; CPUs and memory per replica."""

    compute_target_name: str | None = None
    autoscale_enabled: bool = False
    autoscale_min_replicas: int = 1
    autoscale_max_replicas: int = 10
    autoscale_target_ongoing_requests: float = 2.0
    num_replicas: int = 1
    cpu_cores: float = 1.0
    memory_gb: float = 1.0
    port: int | None = None  # the endpoint's front, on this machine

    def replicas_of(self, request: DeploymentRequest) -> DeploymentRequest:
        if not self.autoscale_enabled:
            return replace(request, replicas=self.num_replicas)
        return replace(
            request,
            min_replicas=self.autoscale_min_replicas,
            max_replicas=self.autoscale_max_replicas,
            target_ongoing_requests=self.autoscale_target_ongoing_requests,
        )


DeploymentConfiguration = (
    LocalWebserviceDeploymentConfiguration | RayWebserviceDeploymentConfiguration
)


class Webservice:
    """A deployed endpoint: its front on this machine, its deployment local or on a ray
    compute."""

    def __init__(self, workspace: Any, name: str) -> None:
        self._workspace = workspace
        self.name = name
        endpoints.get_endpoint(self._opened, name)  # NotFound if there is none

    @property
    def _opened(self) -> OpenWorkspace:
        opened: OpenWorkspace = self._workspace._opened
        return opened

    @property
    def scoring_uri(self) -> str:
        return endpoints.get_endpoint(self._opened, self.name).scoring_uri

    @property
    def swagger_uri(self) -> str:
        return endpoints.get_endpoint(self._opened, self.name).swagger_uri

    @property
    def port(self) -> int:
        return endpoints.get_endpoint(self._opened, self.name).port

    @property
    def state(self) -> str:
        """Healthy when every deployment succeeded, else the first one's state (Azure's words)."""
        states = {d.state for d in endpoints.list_deployments(self._opened, self.name)}
        if states == {DeploymentState.SUCCEEDED}:
            return "Healthy"
        return next(iter(sorted(s.value for s in states)), "Unknown")

    def wait_for_deployment(self, show_output: bool = False, timeout_sec: float = 0) -> None:
        """`Model.deploy` returns once the replicas are ready; this reports, and raises if a
        deployment failed (its error is the script's traceback)."""
        del timeout_sec  # deploying already waited
        for deployment in endpoints.list_deployments(self._opened, self.name):
            if show_output:
                print(f"{self.name}/{deployment.name}: {deployment.state.value}")
            if deployment.state is DeploymentState.FAILED:
                raise ModelyardError(deployment.error or f"deployment {deployment.name} failed")

    def run(self, input_data: Any) -> Any:
        """Score `input_data` (a JSON string, bytes, or anything JSON-serialisable)."""
        if isinstance(input_data, bytes):
            body, content_type = input_data, "application/octet-stream"
        elif isinstance(input_data, str):
            body, content_type = input_data.encode(), "application/json"
        else:
            body, content_type = json.dumps(input_data).encode(), "application/json"
        answer = endpoints.invoke(self._opened, self.name, body, content_type)
        document = answer.json()
        if answer.is_success:
            return document
        error_class = ERROR_CLASSES.get(str(document.get("code")), ModelyardError)
        raise error_class(str(document.get("message", answer.text)))

    def get_logs(self, num_lines: int = 5000) -> str:
        text = endpoints.logs(self._opened, self.name)
        return "\n".join(text.splitlines()[-num_lines:])

    def get_keys(self) -> tuple[str, str]:
        keys = endpoints.get_keys(self._opened, self.name)
        return keys["primaryKey"], keys["secondaryKey"]

    def regen_key(self, key: str) -> None:
        """'Primary' or 'Secondary' (Azure's spelling; any case)."""
        endpoints.regen_key(self._opened, self.name, key)

    def update(
        self,
        models: Sequence[_RegisteredModel] | None = None,
        inference_config: InferenceConfig | None = None,
    ) -> None:
        """A new model (and/or script) for the default deployment, with no downtime; where it
        runs, its replicas and its size stay."""
        current = endpoints.get_deployment(self._opened, self.name, DEFAULT_DEPLOYMENT)
        request = current.to_request(
            model=_one_model(models).id if models else current.resolved_model
        )
        if inference_config is not None:
            request = _with_inference(request, inference_config)
        endpoints.update_deployment(self._opened, request)

    def delete(self) -> None:
        endpoints.delete_endpoint(self._opened, self.name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class LocalWebservice(Webservice):
    """A web service whose replicas are processes on this machine."""

    @staticmethod
    def deploy_configuration(
        port: int | None = None, replicas: int = 1, cpu_cores: float = 1.0, memory_gb: float = 1.0
    ) -> LocalWebserviceDeploymentConfiguration:
        return LocalWebserviceDeploymentConfiguration(port, replicas, cpu_cores, memory_gb)


class RayWebservice(Webservice):
    """A web service served by Ray Serve on a ray compute (Azure's AksWebservice)."""

    @staticmethod
    def deploy_configuration(
        compute_target_name: str | None = None,
        autoscale_enabled: bool = False,
        autoscale_min_replicas: int = 1,
        autoscale_max_replicas: int = 10,
        autoscale_target_ongoing_requests: float = 2.0,
        num_replicas: int = 1,
        cpu_cores: float = 1.0,
        memory_gb: float = 1.0,
        port: int | None = None,
    ) -> RayWebserviceDeploymentConfiguration:
        return RayWebserviceDeploymentConfiguration(
            compute_target_name,
            autoscale_enabled,
            autoscale_min_replicas,
            autoscale_max_replicas,
            autoscale_target_ongoing_requests,
            num_replicas,
            cpu_cores,
            memory_gb,
            port,
        )


def deploy_model(
    workspace: Any,
    name: str,
    models: Sequence[_RegisteredModel],
    inference_config: InferenceConfig | None,
    deployment_config: DeploymentConfiguration | None,
    deployment_target: _NamedCompute | str | None = None,
) -> Webservice:
    config = deployment_config or LocalWebserviceDeploymentConfiguration()
    request = _with_inference(
        DeploymentRequest(
            endpoint=name,
            name=DEFAULT_DEPLOYMENT,
            model=_one_model(models).id,
            cpu_cores=config.cpu_cores,
            memory_gb=config.memory_gb,
        ),
        inference_config or InferenceConfig(),
    )
    opened: OpenWorkspace = workspace._opened
    if isinstance(config, RayWebserviceDeploymentConfiguration):
        compute = _ray_target(config, deployment_target)
        endpoints.deploy(
            opened, replace(config.replicas_of(request), compute=compute), port=config.port
        )
        return RayWebservice(workspace, name)
    if deployment_target is not None:
        raise InvalidValue(
            "a LocalWebservice runs on this machine; for a compute, deploy with"
            " RayWebservice.deploy_configuration()"
        )
    endpoints.deploy(opened, replace(request, replicas=config.replicas), port=config.port or None)
    return LocalWebservice(workspace, name)


def _ray_target(
    config: RayWebserviceDeploymentConfiguration, target: _NamedCompute | str | None
) -> str:
    named = target if isinstance(target, str) or target is None else target.name
    if named and config.compute_target_name and named != config.compute_target_name:
        raise InvalidValue(
            f"deployment_target {named!r} and compute_target_name"
            f" {config.compute_target_name!r} differ: give one of them"
        )
    compute = named or config.compute_target_name
    if not compute:
        raise InvalidValue(
            "a RayWebservice needs its ray compute: pass deployment_target=ComputeTarget(ws,"
            " NAME) to Model.deploy, or compute_target_name= to deploy_configuration()"
        )
    return compute


def _with_inference(request: DeploymentRequest, inference: InferenceConfig) -> DeploymentRequest:
    environment = inference.environment
    return replace(
        request,
        entry_script=inference.entry_script,
        source_directory=inference.source_directory,
        environment=json.dumps(environment.to_dict()) if environment is not None else None,
    )


def _one_model(models: Sequence[_RegisteredModel]) -> _RegisteredModel:
    if len(models) != 1:
        raise InvalidValue(f"a web service serves one model, not {len(models)}: pass [model]")
    return models[0]
