"""Online endpoints: the request bodies of `routes/endpoints.py` and the endpoints' and
deployments' JSON (`entities/endpoints.py`). Keys are never in an endpoint's JSON: they are
asked for (`POST /endpoints/{name}/list-keys`), as Azure's listKeys is. A deployment's code
travels with it as an archive (`DEPLOYMENT_ARCHIVE`, `services/deployment_archive.py`)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from pydantic import Base64Bytes, BaseModel, Field, RootModel

from modelyard.entities.endpoints import (
    LOCAL_COMPUTE,
    MAX_CLUSTER_REPLICAS,
    MAX_TARGET_ONGOING_REQUESTS,
    DeploymentRequest,
    DeploymentState,
)
from modelyard.server.schemas.common import Number, ResponseModel, Timestamp

EndpointName = Annotated[str, Field(min_length=3, max_length=32)]
Percent = Annotated[int, Field(ge=0, le=100)]
_PATH_MAX = 4096

# A deployment with its code; the members are checked by `services/endpoint_upload.py`.
DEPLOYMENT_ARCHIVE: Final[dict[str, Any]] = {
    "type": "string",
    "format": "binary",
    "description": "a tar archive: deployment.json (a DeploymentIn whose entry_script is a path"
    " inside code/ and whose source_directory is null), then code/<path> for each file of the"
    " deployment's source directory",
}


# Requests ---------------------------------------------------------------------------------------


class EndpointIn(BaseModel):
    name: EndpointName
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    description: Annotated[str, Field(max_length=1024)] | None = None


class DeploymentIn(BaseModel):
    """A deployment of a registered model. Its code is sent with it (`/with-code`); as JSON
    alone, it names none (the no-code image scorer) or the code its deployment already runs
    (the `entry_script` and `source_directory` the deployment shows): the server runs no
    other file of its disk."""

    name: EndpointName
    model: Annotated[str, Field(min_length=1, max_length=512)]
    entry_script: Annotated[str, Field(max_length=_PATH_MAX)] | None = None
    source_directory: Annotated[str, Field(max_length=_PATH_MAX)] | None = None
    environment: dict[str, Any] | None = Field(
        None, description='{"name", "pip_requirements": [...], "python"}; null: the server\'s'
    )
    compute: str = Field(
        LOCAL_COMPUTE,
        max_length=32,
        description="local (processes on the server's machine) or a ray compute (Ray Serve)",
    )
    replicas: int = Field(1, ge=1, le=MAX_CLUSTER_REPLICAS, description="at most 16 on local")
    min_replicas: int | None = Field(
        None, ge=0, le=MAX_CLUSTER_REPLICAS, description="ray compute: autoscaling's lower bound"
    )
    max_replicas: int | None = Field(
        None,
        ge=1,
        le=MAX_CLUSTER_REPLICAS,
        description="ray compute: autoscaling's upper bound (set: autoscaling on)",
    )
    target_ongoing_requests: float | None = Field(
        None,
        gt=0,
        le=MAX_TARGET_ONGOING_REQUESTS,
        description="ray compute: requests in flight per replica the autoscaler aims at",
    )
    cpu_cores: Annotated[float, Field(gt=0, le=1024)] = 1.0
    memory_gb: Annotated[float, Field(gt=0, le=4096)] = 1.0
    traffic: dict[str, Percent] | None = Field(
        None, description="the endpoint's new split once this deployment is ready"
    )
    port: Annotated[int, Field(ge=1, le=65535)] | None = Field(
        None, description="a new endpoint's port (created by this deploy); null: a free one"
    )
    sample: Base64Bytes | None = Field(
        None,
        description="the preflight's sample request body, base64; null: init() only (a"
        " generated image for the no-code image scorer)",
    )

    def to_request(self, endpoint: str) -> DeploymentRequest:
        return DeploymentRequest(
            endpoint=endpoint,
            name=self.name,
            model=self.model,
            entry_script=self.entry_script,
            source_directory=self.source_directory,
            environment=json.dumps(self.environment) if self.environment is not None else None,
            compute=self.compute,
            replicas=self.replicas,
            cpu_cores=self.cpu_cores,
            memory_gb=self.memory_gb,
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            target_ongoing_requests=self.target_ongoing_requests,
        )


class TrafficIn(BaseModel):
    traffic: dict[str, Percent] | None = Field(None, description="sums to 100; null: unchanged")
    mirror_traffic: dict[str, Percent] | None = Field(
        None, description="one deployment and its share, {} for none; null: unchanged"
    )


class RegenKeyIn(BaseModel):
    key_type: Annotated[str, Field(max_length=16, description="primary or secondary")]


# Answers ----------------------------------------------------------------------------------------


class ReplicaHandle(ResponseModel):
    index: int
    port: int
    handle: str = Field(description="a local process (pid@host/start), or serve:APPLICATION")
    url: str | None = Field(
        description="a Ray Serve application's route behind Serve's proxy; null: a local process"
    )


class Deployment(ResponseModel):
    endpoint: str
    name: str
    model: str = Field(description="the reference as given: NAME, NAME:VERSION, NAME@ALIAS")
    resolved_model: str = Field(description="NAME:VERSION it resolved to when deployed")
    entry_script: str | None
    source_directory: str | None
    environment: dict[str, Any] | None
    compute: str
    replicas: int
    min_replicas: int | None
    max_replicas: int | None = Field(description="set: Ray Serve autoscales the replicas")
    target_ongoing_requests: Number | None
    cpu_cores: Number
    memory_gb: Number
    state: DeploymentState
    error: str | None = Field(description="why it failed (the preflight's traceback)")
    replica_handles: list[ReplicaHandle]
    created_at: Timestamp
    updated_at: Timestamp


class Endpoint(ResponseModel):
    name: str
    auth_mode: str
    scoring_uri: str
    swagger_uri: str
    port: int
    traffic: dict[str, int]
    mirror_traffic: dict[str, int]
    description: str | None
    created_at: Timestamp


class EndpointHealth(ResponseModel):
    """What runs now, as the processes' handles find them (no request is sent)."""

    front_running: bool = Field(description="the endpoint's host: its front and supervisor")
    replicas_running: dict[str, int] = Field(description="deployment → its replicas running")


class EndpointDetails(Endpoint):
    deployments: list[Deployment]
    health: EndpointHealth


class ModelOutput(ResponseModel):
    """An image classifier's answer (Model Builder's ModelOutput)."""

    Prediction: str = Field(description="the most likely label")
    Score: dict[str, float] = Field(description="label → probability")


class ScoringAnswer(
    RootModel[
        ModelOutput | list[ModelOutput] | dict[str, Any] | list[Any] | str | float | bool | None
    ]
):
    """What the deployment answered, relayed as it is: an image classifier's ModelOutput (a list
    of them for a batch), or whatever JSON an entry script's run() returns."""


class Keys(ResponseModel):
    primaryKey: str
    secondaryKey: str


class EndpointLogs(ResponseModel):
    text: str


class EndpointDeleted(ResponseModel):
    deleted: str
