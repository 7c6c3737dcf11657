"""Azure ML's v1 deployment objects: `InferenceConfig`, `LocalWebservice` and the web service
that `Model.deploy` returns. Thin over `services.endpoints`: a web service is an endpoint with
one deployment (named "default" unless told), as Azure's local web service is.

    service = Model.deploy(ws, "doubler", [model], InferenceConfig(entry_script="score.py",
                           source_directory="src"), LocalWebservice.deploy_configuration(port=0))
    service.wait_for_deployment(show_output=True)
    service.run(json.dumps({"x": 3}))
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


class LocalWebservice:
    """A deployed endpoint on this machine."""

    def __init__(self, workspace: Any, name: str) -> None:
        self._workspace = workspace
        self.name = name
        endpoints.get_endpoint(self._opened, name)  # NotFound if there is none

    @staticmethod
    def deploy_configuration(
        port: int | None = None, replicas: int = 1, cpu_cores: float = 1.0, memory_gb: float = 1.0
    ) -> LocalWebserviceDeploymentConfiguration:
        return LocalWebserviceDeploymentConfiguration(port, replicas, cpu_cores, memory_gb)

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
        """A new model (and/or script) for the default deployment, with no downtime."""
        current = endpoints.get_deployment(self._opened, self.name, DEFAULT_DEPLOYMENT)
        reference = _one_model(models).id if models else current.resolved_model
        config = inference_config or InferenceConfig(
            current.entry_script, None, current.source_directory
        )
        request = _request(self.name, reference, config, None, current.replicas)
        if inference_config is None:  # the same environment as before
            request = replace(request, environment=current.environment)
        endpoints.update_deployment(self._opened, request)

    def delete(self) -> None:
        endpoints.delete_endpoint(self._opened, self.name)

    def __repr__(self) -> str:
        return f"LocalWebservice(name={self.name!r})"


def deploy_model(
    workspace: Any,
    name: str,
    models: Sequence[_RegisteredModel],
    inference_config: InferenceConfig | None,
    deployment_config: LocalWebserviceDeploymentConfiguration | None,
) -> LocalWebservice:
    config = deployment_config or LocalWebserviceDeploymentConfiguration()
    request = _request(
        name, _one_model(models).id, inference_config or InferenceConfig(), config, config.replicas
    )
    opened: OpenWorkspace = workspace._opened
    endpoints.deploy(opened, request, port=config.port or None)
    return LocalWebservice(workspace, name)


def _request(
    name: str,
    model: str,
    inference: InferenceConfig,
    config: LocalWebserviceDeploymentConfiguration | None,
    replicas: int,
) -> DeploymentRequest:
    environment = inference.environment
    return DeploymentRequest(
        endpoint=name,
        name=DEFAULT_DEPLOYMENT,
        model=model,
        entry_script=inference.entry_script,
        source_directory=inference.source_directory,
        environment=json.dumps(environment.to_dict()) if environment is not None else None,
        replicas=replicas,
        cpu_cores=config.cpu_cores if config else 1.0,
        memory_gb=config.memory_gb if config else 1.0,
    )


def _one_model(models: Sequence[_RegisteredModel]) -> _RegisteredModel:
    if len(models) != 1:
        raise InvalidValue(f"a local web service serves one model, not {len(models)}: pass [model]")
    return models[0]
