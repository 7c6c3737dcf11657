"""Online endpoints over the API (local replicas run on the server's machine; a deployment on a
ray compute is a Ray Serve application on its cluster, behind the front on the server's).

Readers see endpoints and deployments (with which of their processes run); contributors
deploy, update, move traffic, delete a deployment, read and regenerate keys (a key is a secret:
readers never see one) and test the endpoint through the server, which calls it with its key
(the portal's Test box: the browser never holds a key, and never calls another port); deleting
a whole endpoint is for admins. A deploy answers once the replicas are ready, or 422
DEPLOYMENT_FAILED with the script's traceback when the preflight fails.

A deployment's entry script and source directory come with it, as one archive (`/with-code`,
unpacked into the endpoint's folder by `services/endpoint_upload.py`); a deploy sent as JSON
may name only the code its deployment was sent with, never another path of the server's disk.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from modelyard.entities.endpoints import PIN_HEADER, Deployment, Endpoint
from modelyard.errors import NotReady, UnsupportedMediaType
from modelyard.server.deps import Admin, Contributor, Reader, workspace_of
from modelyard.server.errors import validation_refusal
from modelyard.server.guard import JSON_TYPE, body_media_type
from modelyard.server.schemas import endpoints as schemas
from modelyard.server.schemas.artifacts import BINARY
from modelyard.server.schemas.errors import error_responses
from modelyard.server.uploads import ARTIFACT_TYPE, JOB_ARCHIVE_TYPE, spooled_upload
from modelyard.services import endpoint_upload, endpoints
from modelyard.services.workspaces import OpenWorkspace

if TYPE_CHECKING:
    import httpx

# What the scoring answer carries back besides its body: who answered, under which request id.
RELAYED_HEADERS: Final = ("content-type", "x-request-id", "retry-after", PIN_HEADER)
_JSON_BODY: Final = (
    'what the entry script\'s run() takes; for an image classifier {"ImageSource": "<base64>"}'
)

router = APIRouter(tags=["endpoints"])

_ARCHIVE_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {JOB_ARCHIVE_TYPE: {"schema": schemas.DEPLOYMENT_ARCHIVE}},
        "required": True,
    }
}


@router.get("/endpoints", dependencies=[Reader], response_model=list[schemas.EndpointDetails])
def list_endpoints(request: Request) -> list[dict[str, Any]]:
    """Each endpoint with its deployments and which of its processes run."""
    ws = workspace_of(request)
    return [
        {**endpoint.to_dict(deployments), "health": health.to_dict()}
        for endpoint, deployments, health in endpoints.list_with_health(ws)
    ]


def _details(
    ws: OpenWorkspace, endpoint: Endpoint, deployments: list[Deployment]
) -> dict[str, Any]:
    health = endpoints.health(ws, endpoint, deployments)
    return {**endpoint.to_dict(deployments), "health": health.to_dict()}


@router.post(
    "/endpoints",
    status_code=201,
    dependencies=[Contributor],
    response_model=schemas.EndpointDetails,
    responses=error_responses(409),
)
def create_endpoint(body: schemas.EndpointIn, request: Request) -> dict[str, Any]:
    ws = workspace_of(request)
    created = endpoints.create_endpoint(ws, body.name, body.port, body.description)
    return _details(ws, created, [])


@router.get("/endpoints/{name}", dependencies=[Reader], response_model=schemas.EndpointDetails)
def show_endpoint(name: str, request: Request) -> dict[str, Any]:
    ws = workspace_of(request)
    return _details(ws, endpoints.get_endpoint(ws, name), endpoints.list_deployments(ws, name))


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


@router.post(
    "/endpoints/{name}/invoke",
    dependencies=[Contributor],
    response_class=Response,
    responses={
        200: {
            "model": schemas.ScoringAnswer,
            "description": "The deployment's answer, relayed with its status, content type,"
            f" `x-request-id` and `{PIN_HEADER}` (the deployment that answered)",
        },
        **error_responses(404, 413, 415, 500, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                JSON_TYPE: {"schema": {"description": _JSON_BODY}},
                ARTIFACT_TYPE: {"schema": {**BINARY, "description": "an image's bytes"}},
            },
        }
    },
)
async def invoke(
    name: str,
    request: Request,
    deployment: Annotated[
        str | None, Query(max_length=32, description="pin: this deployment, not the split")
    ] = None,
) -> Response:
    """Score one request through the endpoint's front, with its key, as a caller would (the
    portal's Test box). The deployment's refusals (4xx and 5xx with its request id) come back as
    they are; an endpoint that does not answer is a 404 saying so."""
    body, content_type = await _scoring_body(request)
    ws = workspace_of(request)
    answer = await run_in_threadpool(endpoints.invoke, ws, name, body, content_type, deployment)
    return _relayed(name, answer)


async def _scoring_body(request: Request) -> tuple[bytes, str]:
    media_type = body_media_type(request.headers) or ""
    if media_type == ARTIFACT_TYPE:  # an image: streamed in under the upload limits
        async with spooled_upload(request, ARTIFACT_TYPE, "the scoring request") as spooled:
            return await run_in_threadpool(spooled.read), ARTIFACT_TYPE
    if media_type == JSON_TYPE or media_type.endswith("+json"):  # read whole by the guard
        return await request.body(), request.headers["content-type"]
    raise UnsupportedMediaType(
        f"a scoring request sent as {media_type or 'no content type'} cannot be relayed: send"
        f" JSON ({JSON_TYPE}) or an image's bytes ({ARTIFACT_TYPE})",
        content_type=media_type,
    )


def _relayed(endpoint: str, answer: httpx.Response) -> Response:
    if answer.status_code == 401:
        # The front refused the key just read from the store: it was regenerated meanwhile.
        # Not relayed as a 401, which would read as this server's login having ended.
        raise NotReady(f"endpoint {endpoint} refused its key, regenerated meanwhile; send again")
    headers = {k: v for k, v in answer.headers.items() if k in RELAYED_HEADERS}
    return Response(answer.content, answer.status_code, headers)
