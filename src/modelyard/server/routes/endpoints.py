"""Online endpoints over the API (the local target: the replicas run on the server's machine).

Readers see endpoints and deployments; contributors deploy, update, move traffic, delete a
deployment, read and regenerate keys (a key is a secret: readers never see one); deleting a
whole endpoint is for admins. A deploy answers once the replicas are ready, or 422
DEPLOYMENT_FAILED with the script's traceback when the preflight fails.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from modelyard.server.deps import Admin, Contributor, Reader, workspace_of
from modelyard.server.schemas import endpoints as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.services import endpoints

router = APIRouter(tags=["endpoints"])


@router.get("/endpoints", dependencies=[Reader], response_model=list[schemas.Endpoint])
def list_endpoints(request: Request) -> list[dict[str, Any]]:
    return [endpoint.to_dict() for endpoint in endpoints.list_endpoints(workspace_of(request))]


@router.post(
    "/endpoints",
    status_code=201,
    dependencies=[Contributor],
    response_model=schemas.EndpointDetails,
    responses=error_responses(409),
)
def create_endpoint(body: schemas.EndpointIn, request: Request) -> dict[str, Any]:
    created = endpoints.create_endpoint(
        workspace_of(request), body.name, body.port, body.description
    )
    return created.to_dict([])


@router.get("/endpoints/{name}", dependencies=[Reader], response_model=schemas.EndpointDetails)
def show_endpoint(name: str, request: Request) -> dict[str, Any]:
    ws = workspace_of(request)
    return endpoints.get_endpoint(ws, name).to_dict(endpoints.list_deployments(ws, name))


@router.delete("/endpoints/{name}", dependencies=[Admin], response_model=schemas.EndpointDeleted)
def delete_endpoint(name: str, request: Request) -> dict[str, Any]:
    endpoints.delete_endpoint(workspace_of(request), name)
    return {"deleted": name}


@router.post(
    "/endpoints/{name}/deployments",
    status_code=201,
    dependencies=[Contributor],
    response_model=schemas.Deployment,
    responses=error_responses(404, 409, 422),
)
def deploy(name: str, body: schemas.DeploymentIn, request: Request) -> dict[str, Any]:
    """Preflight, then the replicas; answered once they are ready."""
    ws = workspace_of(request)
    return endpoints.deploy(ws, body.to_request(name), traffic=body.traffic).to_dict()


@router.put(
    "/endpoints/{name}/deployments/{deployment}",
    dependencies=[Contributor],
    response_model=schemas.Deployment,
    responses=error_responses(404, 409, 422),
)
def update_deployment(
    name: str, deployment: str, body: schemas.DeploymentIn, request: Request
) -> dict[str, Any]:
    """Zero-downtime: the new replicas are ready before the old ones stop."""
    body = body.model_copy(update={"name": deployment})
    return endpoints.update_deployment(workspace_of(request), body.to_request(name)).to_dict()


@router.delete(
    "/endpoints/{name}/deployments/{deployment}",
    dependencies=[Contributor],
    response_model=schemas.EndpointDeleted,
    responses=error_responses(400, 404),
)
def delete_deployment(name: str, deployment: str, request: Request) -> dict[str, Any]:
    endpoints.delete_deployment(workspace_of(request), name, deployment)
    return {"deleted": deployment}


@router.put(
    "/endpoints/{name}/traffic",
    dependencies=[Contributor],
    response_model=schemas.Endpoint,
    responses=error_responses(400, 404),
)
def set_traffic(name: str, body: schemas.TrafficIn, request: Request) -> dict[str, Any]:
    ws = workspace_of(request)
    return endpoints.set_traffic(ws, name, body.traffic, body.mirror_traffic).to_dict()


@router.post("/endpoints/{name}/list-keys", dependencies=[Contributor], response_model=schemas.Keys)
def list_keys(name: str, request: Request) -> dict[str, str]:
    return endpoints.get_keys(workspace_of(request), name)


@router.post(
    "/endpoints/{name}/regen-key",
    dependencies=[Contributor],
    response_model=schemas.Keys,
    responses=error_responses(400, 404),
)
def regen_key(name: str, body: schemas.RegenKeyIn, request: Request) -> dict[str, str]:
    return endpoints.regen_key(workspace_of(request), name, body.key_type)


@router.get("/endpoints/{name}/logs", dependencies=[Reader], response_model=schemas.EndpointLogs)
def logs(name: str, request: Request, deployment: str | None = None) -> dict[str, str]:
    return {"text": endpoints.logs(workspace_of(request), name, deployment)}
