"""The replica's HTTP app (Starlette, no FastAPI: a replica stays small and starts fast).

Azure's paths: `POST /score` (key auth), `GET /` liveness ("Healthy"), plus `GET /health/ready`
(200 once init() finished), `GET /swagger.json` and `GET /metrics` (Prometheus text).

Every refusal is JSON `{"code", "message", "context", "request_id"}` with the status of its
ModelyardError; anything else raised while scoring is a 500 naming the request id, whose
traceback goes to the replica's log (stderr), and the replica goes on serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from modelyard.errors import AuthError, BodyTooLarge, ModelyardError, NotReady, http_status_for
from modelyard.serving import metrics as metrics_format
from modelyard.serving.config import ReplicaConfig
from modelyard.serving.keys import KeyRing
from modelyard.serving.metrics import ReplicaMetrics
from modelyard.serving.scorers import Scorer

logger = logging.getLogger("modelyard.serving")
REQUEST_ID_HEADER: Final = "x-request-id"
_LOGGED_BODY_CHARS: Final = 1000


class Replica:
    """One model served: its scorer, keys, metrics and whether init() has finished."""

    def __init__(
        self,
        config: ReplicaConfig,
        scorer: Scorer,
        keys: KeyRing | None,
        metrics: ReplicaMetrics,
        on_init_failed: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.scorer = scorer
        self.keys = keys  # None: auth turned off
        self.metrics = metrics
        self.state = "initializing"
        self._on_init_failed = on_init_failed

    def initialize_now(self) -> None:
        """init() in the caller's thread, raising what it raises: a Ray Serve replica runs it
        in its constructor, before it takes requests (Serve reports the failure)."""
        self.scorer.init()
        self.state = "ready"

    async def initialize(self) -> None:
        if self.state == "ready":  # initialised before it served (a Ray Serve replica)
            return
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.scorer.init)
        except Exception:
            self.state = "failed"
            logger.error("init() failed; the replica cannot serve:\n%s", traceback.format_exc())
            self._on_init_failed()
            return
        self.state = "ready"
        logger.info("ready: init() finished")


def build_app(replica: Replica) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        initializing = asyncio.create_task(replica.initialize())
        try:
            yield
        finally:
            initializing.cancel()
            await replica.scorer.close()

    routes = [
        Route("/score", _score_route(replica), methods=["POST"]),
        Route("/", _liveness, methods=["GET"]),
        Route("/health/ready", _readiness_route(replica), methods=["GET"]),
        Route("/swagger.json", _swagger_route(replica), methods=["GET"]),
        Route("/metrics", _metrics_route(replica), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def _liveness(_request: Request) -> Response:
    return PlainTextResponse("Healthy")


def _readiness_route(replica: Replica) -> Callable[[Request], Any]:
    async def readiness(_request: Request) -> Response:
        status = 200 if replica.state == "ready" else 503
        return JSONResponse({"ready": status == 200, "state": replica.state}, status_code=status)

    return readiness


def _swagger_route(replica: Replica) -> Callable[[Request], Any]:
    async def swagger(_request: Request) -> Response:
        return JSONResponse(replica.scorer.openapi())

    return swagger


def _metrics_route(replica: Replica) -> Callable[[Request], Any]:
    async def metrics(_request: Request) -> Response:
        text = replica.metrics.render()
        return Response(text, media_type=metrics_format.CONTENT_TYPE)

    return metrics


def _score_route(replica: Replica) -> Callable[[Request], Any]:
    async def score(request: Request) -> Response:
        request_id = uuid.uuid4().hex
        started = time.perf_counter()
        response = await _answer(replica, request, request_id)
        response.headers[REQUEST_ID_HEADER] = request_id
        replica.metrics.request_done(response.status_code, time.perf_counter() - started)
        if replica.config.log_requests:
            _log_exchange(request, response, request_id, time.perf_counter() - started)
        return response

    return score


async def _answer(replica: Replica, request: Request, request_id: str) -> Response:
    try:
        _check_key(replica.keys, request)
        if replica.state != "ready":
            raise NotReady(f"the replica is not ready ({replica.state}); fix: retry shortly")
        body = await read_body(request, replica.config.max_body_bytes)
        if replica.config.log_requests:
            logger.info("request %s body: %s", request_id, _shown(body))
        result = await replica.scorer.score(request.headers.get("content-type"), body)
        return Response(answer_json(result), media_type="application/json")
    except ModelyardError as error:
        return error_response(error, request_id)
    except Exception as error:
        logger.error("request %s failed:\n%s", request_id, traceback.format_exc())
        message = (
            f"scoring failed ({type(error).__name__}: {_first_line(error)}); the replica's log "
            f"has the traceback under request id {request_id}"
        )
        return error_response(ModelyardError(message), request_id)


def _check_key(keys: KeyRing | None, request: Request) -> None:
    if keys is None:
        return
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise AuthError("no key; fix: send the header Authorization: Bearer <key>")
    if not keys.accepts(presented.strip()):
        raise AuthError("the key is not a current key of this service; fix: use get-keys")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` bytes (declared or counted)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"the body is over the limit of {limit} bytes (at least {size}); fix: send fewer or "
        "smaller images per request",
        limit=limit,
    )


def error_response(error: ModelyardError, request_id: str) -> JSONResponse:
    status = http_status_for(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({**error.to_dict(), "request_id": request_id}, status, headers)


def answer_json(result: Any) -> bytes:
    try:
        return json.dumps(result, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"the answer, a {type(result).__name__}, is not JSON-serialisable: {error}"
        ) from error


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:300]


def _shown(body: bytes) -> str:
    text = body[:_LOGGED_BODY_CHARS].decode("utf-8", errors="replace")
    return text + (f"... ({len(body)} bytes)" if len(body) > _LOGGED_BODY_CHARS else "")


def _log_exchange(request: Request, response: Response, request_id: str, seconds: float) -> None:
    answer = bytes(response.body)[:_LOGGED_BODY_CHARS].decode("utf-8", errors="replace")
    logger.info(
        "request %s %s %s -> %d in %.1f ms: %s",
        request_id,
        request.method,
        request.url.path,
        response.status_code,
        seconds * 1000,
        answer,
    )
