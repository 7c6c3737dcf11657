"""Online endpoints over the API (the local target: the replicas run on the server's machine).

Readers see endpoints and deployments; contributors deploy, update, move traffic, delete a
deployment, read and regenerate keys (a key is a secret: readers never see one); deleting a
whole endpoint is for admins. A deploy answers once the replicas are ready, or 422
DEPLOYMENT_FAILED with the script's traceback when the preflight fails.

A deployment's entry script and source directory come with it, as one archive (`/with-code`,
unpacked into the endpoint's folder by `services/endpoint_upload.py`); a deploy sent as JSON
may name only the code its deployment was sent with, never another path of the server's disk.
"""

from __future__ import annotations

from typing import IO, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from modelyard.entities.endpoints import Deployment
from modelyard.server.deps import Admin, Contributor, Reader, workspace_of
from modelyard.server.errors import validation_refusal
from modelyard.server.schemas import endpoints as schemas
from modelyard.server.schemas.errors import error_responses
from modelyard.server.uploads import JOB_ARCHIVE_TYPE, spooled_upload
from modelyard.services import endpoint_upload, endpoints
from modelyard.services.workspaces import OpenWorkspace

router = APIRouter(tags=["endpoints"])

_ARCHIVE_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {JOB_ARCHIVE_TYPE: {"schema": schemas.DEPLOYMENT_ARCHIVE}},
        "required": True,
    }
}


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
    """Preflight, then the replicas; answered once they are ready. Code: none, or sent with
    the deployment (`/with-code`)."""
    ws = workspace_of(request)
    checked = endpoint_upload.check_named_code(ws, body.to_request(name))
    deployed = endpoints.deploy(
        ws, checked, port=body.port, traffic=body.traffic, sample=body.sample
    )
    return deployed.to_dict()


@router.post(
    "/endpoints/{name}/deployments/with-code",
    status_code=201,
    dependencies=[Contributor],
    response_model=schemas.Deployment,
    responses=error_responses(404, 409, 422),
    openapi_extra=_ARCHIVE_BODY,
)
async def deploy_with_code(name: str, request: Request) -> dict[str, Any]:
    """Deploy with the entry script and its folder, unpacked on the server's machine."""
    return await _deploy_archive(request, name, None)


@router.get(
    "/endpoints/{name}/deployments/{deployment}",
    dependencies=[Reader],
    response_model=schemas.Deployment,
)
def show_deployment(name: str, deployment: str, request: Request) -> dict[str, Any]:
    return endpoints.get_deployment(workspace_of(request), name, deployment).to_dict()


@router.put(
    "/endpoints/{name}/deployments/{deployment}",
    dependencies=[Contributor],
    response_model=schemas.Deployment,
    responses=error_responses(404, 409, 422),
)
def update_deployment(
    name: str, deployment: str, body: schemas.DeploymentIn, request: Request
) -> dict[str, Any]:
    """Zero-downtime: the new replicas are ready before the old ones stop. Code: none, the
    code it runs, or new code sent with it (`/with-code`)."""
    ws = workspace_of(request)
    body = body.model_copy(update={"name": deployment})
    checked = endpoint_upload.check_named_code(ws, body.to_request(name))
    return endpoints.update_deployment(ws, checked, sample=body.sample).to_dict()


@router.put(
    "/endpoints/{name}/deployments/{deployment}/with-code",
    dependencies=[Contributor],
    response_model=schemas.Deployment,
    responses=error_responses(404, 409, 422),
    openapi_extra=_ARCHIVE_BODY,
)
async def update_with_code(name: str, deployment: str, request: Request) -> dict[str, Any]:
    """Zero-downtime, to the entry script and folder sent with it."""
    return await _deploy_archive(request, name, deployment)


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


async def _deploy_archive(request: Request, name: str, deployment: str | None) -> dict[str, Any]:
    """A deploy (`deployment` None) or an update from the request's archive."""
    ws = workspace_of(request)
    async with spooled_upload(request, JOB_ARCHIVE_TYPE, "the deployment archive") as archive:
        done = await run_in_threadpool(_deploy_unpacked, ws, name, deployment, archive)
    return done.to_dict()


def _deploy_unpacked(
    ws: OpenWorkspace, name: str, deployment: str | None, archive: IO[bytes]
) -> Deployment:
    with endpoint_upload.received_code(ws, archive) as (description, code):
        try:
            body = schemas.DeploymentIn.model_validate(description)
        except ValidationError as error:
            raise validation_refusal(error.errors(), "deployment.json") from None
        if deployment is not None:
            body = body.model_copy(update={"name": deployment})
            return endpoint_upload.update_with_code(ws, body.to_request(name), code, body.sample)
        request = body.to_request(name)
        return endpoint_upload.deploy_with_code(
            ws, request, code, port=body.port, traffic=body.traffic, sample=body.sample
        )
