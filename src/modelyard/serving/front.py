"""An endpoint's front: one port, one scoring URI, in front of all its deployments' replicas
(local processes, or a Ray Serve application's route on a ray compute: one more place to send).

It checks the caller's key (`Authorization: Bearer`, primary or secondary: the one place keys
are checked), picks a deployment by the traffic split, or the one the `x-modelyard-deployment`
header pins, forwards to that deployment's replicas in turn (the next one if a replica refuses
the connection), and sends a copy of a share of requests to the mirror deployment without
waiting for it or using its answer. What to do it reads from the routing file the service
writes (`RoutingTable`), again whenever that file changes.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from modelyard.entities.endpoints import PIN_HEADER, RoutedReplica, RoutingTable
from modelyard.errors import AuthError, ModelyardError, NotFound, NotReady, http_status_for

logger = logging.getLogger("modelyard.serving.front")
FORWARDED_HEADERS: Final = ("content-type", "x-request-id")
ANSWER_HEADERS: Final = ("content-type", "x-request-id", "retry-after")
NOT_READY: Final = 503
# A replica that died: refused connections, or a pooled connection it reset. Scoring is
# stateless, so a request cut off by a replica's death is sent to the next one.
_REPLICA_GONE: Final = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)


class RoutingFile:
    """The routing table, read again when its file was replaced (new inode) or rewritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._version: tuple[int, int, int] | None = None
        self._table: RoutingTable | None = None

    def current(self) -> RoutingTable:
        stat = self.path.stat()
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if version != self._version or self._table is None:
            self._table = RoutingTable.from_dict(json.loads(self.path.read_text("utf-8")))
            self._version = version
        return self._table


class Front:
    def __init__(self, routing: RoutingFile, client: httpx.AsyncClient) -> None:
        self.routing = routing
        self.client = client
        self._turns: dict[str, itertools.count[int]] = {}
        self._mirrors: set[asyncio.Task[None]] = set()

    async def score(self, request: Request) -> Response:
        table = self.routing.current()
        _check_key(table, request.headers.get("authorization", ""))
        deployment = self._pick(table, request.headers.get(PIN_HEADER))
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED_HEADERS}
        self._mirror(table, body, headers)
        try:
            answer = await self._forward(table, deployment, "/score", body, headers)
        except NotReady:
            # An update switched replicas while this request was on its way to the old ones,
            # which have stopped since: the routing file names the new ones by now.
            newer = self.routing.current()
            if newer is table or not newer.replicas_of(deployment):
                raise
            answer = await self._forward(newer, deployment, "/score", body, headers)
        return _relayed(answer, deployment)

    async def swagger(self, _request: Request) -> Response:
        table = self.routing.current()
        deployment = self._pick(table, None)
        answer = await self._forward(table, deployment, "/swagger.json", None, {})
        return _relayed(answer, deployment)

    def _pick(self, table: RoutingTable, pinned: str | None) -> str:
        if pinned:
            if not table.replicas_of(pinned):
                raise NotFound(f"deployment {pinned!r} is not serving on endpoint {table.endpoint}")
            return pinned
        split = {name: p for name, p in table.traffic.split.items() if p > 0}
        if not split:
            raise NotReady(f"endpoint {table.endpoint} has no deployment taking traffic yet")
        return random.choices(list(split), weights=list(split.values()))[0]

    async def _forward(
        self,
        table: RoutingTable,
        deployment: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
    ) -> httpx.Response:
        """To the deployment's replicas in turn; the next one if a replica refuses to connect
        (a dead one) or answers 503 (a restarted one still in init()): either way the request
        was not scored, so sending it again is safe."""
        replicas = table.replicas_of(deployment)
        turn = next(self._turns.setdefault(deployment, itertools.count()))
        auth = {"authorization": f"Bearer {table.replica_key}"}
        answer: httpx.Response | None = None
        for offset in range(len(replicas)):
            replica = replicas[(turn + offset) % len(replicas)]
            try:
                answer = await self._send(replica, path, body, {**headers, **auth})
            except _REPLICA_GONE as error:
                logger.warning("replica %s-%d refused: %s", deployment, replica.index, error)
                continue
            if answer.status_code != NOT_READY:  # a restarted replica still in init()
                return answer
        if answer is not None:
            return answer
        raise NotReady(
            f"no replica of deployment {deployment} answers now; it is being restarted",
            deployment=deployment,
        )

    async def _send(
        self, replica: RoutedReplica, path: str, body: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        url = f"{replica.base_url}{path}"
        if body is None:
            return await self.client.get(url, headers=headers)
        return await self.client.post(url, content=body, headers=headers)

    def _mirror(self, table: RoutingTable, body: bytes, headers: dict[str, str]) -> None:
        mirror = table.traffic.mirror
        if not mirror or random.uniform(0, 100) >= table.traffic.mirror_percent:
            return
        if not table.replicas_of(mirror):
            return
        task = asyncio.create_task(self._mirror_one(table, mirror, body, headers))
        self._mirrors.add(task)
        task.add_done_callback(self._mirrors.discard)

    async def _mirror_one(
        self, table: RoutingTable, mirror: str, body: bytes, headers: dict[str, str]
    ) -> None:
        try:
            await self._forward(table, mirror, "/score", body, headers)
        except (ModelyardError, httpx.HTTPError) as error:  # a mirror never affects the answer
            logger.info("mirrored request to %s failed: %s", mirror, error)


def _check_key(table: RoutingTable, authorization: str) -> None:
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise AuthError("this endpoint needs a key: send Authorization: Bearer <key>")
    encoded = presented.strip().encode()
    if not any(hmac.compare_digest(encoded, key.encode()) for key in table.keys if key):
        raise AuthError("the key is not this endpoint's primary or secondary key")


def _relayed(answer: httpx.Response, deployment: str) -> Response:
    headers = {k: v for k, v in answer.headers.items() if k in ANSWER_HEADERS}
    headers[PIN_HEADER] = deployment
    return Response(answer.content, answer.status_code, headers)


def build_front(routing_path: Path) -> Starlette:
    front = Front(RoutingFile(routing_path), httpx.AsyncClient(timeout=300))

    def guarded(handler: Callable[[Request], Awaitable[Response]]) -> Callable[..., Any]:
        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ModelyardError as error:
                return JSONResponse(error.to_dict(), http_status_for(error))

        return route

    async def liveness(_request: Request) -> Response:
        return JSONResponse({"status": "Healthy"})

    return Starlette(
        routes=[
            Route("/", liveness, methods=["GET"]),
            Route("/score", guarded(front.score), methods=["POST"]),
            Route("/swagger.json", guarded(front.swagger), methods=["GET"]),
        ]
    )
