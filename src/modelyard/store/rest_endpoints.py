"""Online endpoints of a workspace behind a server, through its `/endpoints` routes: what
`services.endpoints` does when the workspace is a URL.

The server owns the endpoints: their fronts and replicas run on its machine, and a deploy is
answered once the replicas are ready (or refused with the preflight's traceback, as
DEPLOYMENT_FAILED). An endpoint comes back reached at the server's host name (`Endpoint.host`)
and without its keys, which are asked for (`list-keys`), as Azure's are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from modelyard.entities.endpoints import LOOPBACK, Deployment, Endpoint
from modelyard.store.rest_client import DEFAULT_TIMEOUT_S, RestClient, segment

DEPLOYMENT_ARCHIVE_TYPE: Final = "application/x-tar"
# A deploy is answered once its replicas are ready: an environment may be built first.
DEPLOY_TIMEOUT: Final = httpx.Timeout(DEFAULT_TIMEOUT_S, read=3600.0)


class RestEndpoints:
    def __init__(self, client: RestClient) -> None:
        self.client = client
        self.host = urlsplit(client.server_url).hostname or LOOPBACK

    def create_endpoint(self, name: str, port: int | None, description: str | None) -> Endpoint:
        body = {"name": name, "port": port, "description": description}
        return self._endpoint(self.client.call("POST", "/endpoints", json=body))

    def get_endpoint(self, name: str) -> Endpoint:
        return self._endpoint(self._details(name))

    def list_endpoints(self) -> list[Endpoint]:
        return [self._endpoint(item) for item in self.client.call("GET", "/endpoints")]

    def get_deployment(self, endpoint: str, name: str) -> Deployment:
        route = f"/endpoints/{segment(endpoint)}/deployments/{segment(name)}"
        return Deployment.from_dict(self.client.call("GET", route))

    def list_deployments(self, endpoint: str) -> list[Deployment]:
        return [Deployment.from_dict(item) for item in self._details(endpoint)["deployments"]]

    def delete_endpoint(self, name: str) -> None:
        self.client.call("DELETE", f"/endpoints/{segment(name)}")

    def send_deployment(
        self,
        endpoint: str,
        name: str,
        body: dict[str, Any],
        archive: Path | None,
        update: bool,
    ) -> Deployment:
        """A new deployment (POST) or an update of `name` (PUT): as JSON, or as the archive
        of `deployment_archive` when its code goes with it."""
        route = f"/endpoints/{segment(endpoint)}/deployments"
        route += f"/{segment(name)}" if update else ""
        method = "PUT" if update else "POST"
        if archive is None:
            answer = self.client.call(method, route, json=body, timeout=DEPLOY_TIMEOUT)
            return Deployment.from_dict(answer)
        with open(archive, "rb") as content:
            answer = self.client.call(
                method,
                f"{route}/with-code",
                content=content,
                headers={"Content-Type": DEPLOYMENT_ARCHIVE_TYPE},
                timeout=DEPLOY_TIMEOUT,
            )
        return Deployment.from_dict(answer)

    def delete_deployment(self, endpoint: str, name: str) -> None:
        self.client.call("DELETE", f"/endpoints/{segment(endpoint)}/deployments/{segment(name)}")

    def set_traffic(
        self, endpoint: str, split: dict[str, int] | None, mirror: dict[str, int] | None
    ) -> Endpoint:
        body = {"traffic": split, "mirror_traffic": mirror}
        route = f"/endpoints/{segment(endpoint)}/traffic"
        return self._endpoint(self.client.call("PUT", route, json=body))

    def get_keys(self, endpoint: str) -> dict[str, str]:
        return self._keys(self.client.call("POST", f"/endpoints/{segment(endpoint)}/list-keys"))

    def regen_key(self, endpoint: str, which: str) -> dict[str, str]:
        route = f"/endpoints/{segment(endpoint)}/regen-key"
        return self._keys(self.client.call("POST", route, json={"key_type": which}))

    def logs(self, endpoint: str, deployment: str | None) -> str:
        params = {"deployment": deployment} if deployment else {}
        answer = self.client.call("GET", f"/endpoints/{segment(endpoint)}/logs", params=params)
        return str(answer["text"])

    def _details(self, name: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.call("GET", f"/endpoints/{segment(name)}")
        return answer

    def _endpoint(self, data: dict[str, Any]) -> Endpoint:
        return Endpoint.from_dict(data, self.host)

    @staticmethod
    def _keys(answer: dict[str, Any]) -> dict[str, str]:
        return {key: str(answer[key]) for key in ("primaryKey", "secondaryKey")}
