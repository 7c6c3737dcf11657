"""The HTTP transport shared by `RestStore` and `RestArtifactStore`: one connection pool, one token.

Every refusal from `modelyard server` arrives as `{"code", "message", "context"}` and is raised
here as the same `ModelyardError` subclass the server raised; a server that can't be reached is
`StoreUnavailable`, with the fix in its message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import httpx

from modelyard.errors import ModelyardError, StoreUnavailable

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT_S = 60.0
# A packed job (`POST /jobs`, `/schedules/with-job`, a published pipeline's version): the
# server's routes take it under this type only (`server/uploads.py`).
JOB_ARCHIVE_TYPE: Final = "application/x-tar"


class RestClient:
    def __init__(self, server_url: str, token: str | None, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.server_url = server_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=self.server_url + API_PREFIX, headers=headers, timeout=timeout_s
        )

    def call(self, method: str, path: str, **options: Any) -> Any:
        """One request whose answer is JSON; refusals raised as ModelyardError."""
        with self._transport_errors():
            response = self._client.request(method, path, **options)
        if response.status_code >= 400:
            raise error_from(response)
        return response.json()

    def post_job_archive(self, route: str, archive: Path) -> Any:
        """POST the packed job file `archive`, streamed from disk; the JSON answer."""
        with open(archive, "rb") as body:
            headers = {"content-type": JOB_ARCHIVE_TYPE}
            return self.call("POST", route, content=body, headers=headers)

    @contextmanager
    def stream(self, method: str, path: str, **options: Any) -> Iterator[httpx.Response]:
        """A request whose answer is read as it arrives (downloads, server-sent events)."""
        with self._transport_errors(), self._client.stream(method, path, **options) as response:
            if response.status_code >= 400:
                response.read()
                raise error_from(response)
            yield response

    def download_checked(self, route: str, destination: Path, sha256: str) -> bool:
        """The file at `route` written to `destination`; False (and nothing left there) when
        its bytes' SHA-256 is not `sha256`."""
        digest = hashlib.sha256()
        with self.stream("GET", route) as response, open(destination, "wb") as out:
            for chunk in response.iter_bytes():
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            destination.unlink()
            return False
        return True

    def close(self) -> None:
        self._client.close()

    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.TransportError as error:
            raise StoreUnavailable(
                f"cannot reach the Modelyard server at {self.server_url}: {error}; check that"
                " `modelyard server` is running and the server URL is right",
                server_url=self.server_url,
            ) from error


def segment(value: str) -> str:
    """One URL path segment: `/`, `?`, `#` and `%` in a name must not change the route."""
    return quote(str(value), safe="")


def server_sent_events(lines: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event name, JSON data) for each server-sent event; comments (keep-alives) skipped."""
    name, data = "message", ""
    for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if data:
                yield name, json.loads(data)
            name, data = "message", ""
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data = value if not data else data + "\n" + value
    if data:
        yield name, json.loads(data)


def error_from(response: httpx.Response) -> ModelyardError:
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "code" in payload and "message" in payload:
        return ModelyardError.from_dict(payload)
    return ModelyardError(
        f"the server answered {response.status_code} {response.reason_phrase} without an error"
        " body: check the server's log",
        status=response.status_code,
    )
