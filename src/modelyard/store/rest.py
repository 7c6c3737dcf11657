"""`RestStore`: the tracking store interface spoken over HTTP to `modelyard server`.

It behaves like `SqlStore` call for call, errors included: the server sends every refusal as
`{"code", "message", "context"}` and this client raises the same `ModelyardError` subclass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from modelyard.entities import Experiment, Metric, Run, RunData, RunSource, RunStatus
from modelyard.errors import ModelyardError, StoreUnavailable

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT_S = 60.0


class RestStore:
    def __init__(self, server_url: str, token: str | None, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.server_url = server_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=self.server_url + API_PREFIX, headers=headers, timeout=timeout_s
        )

    def close(self) -> None:
        self._client.close()

    # Transport -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **options: Any) -> Any:
        try:
            response = self._client.request(method, path, **options)
        except httpx.TransportError as error:
            raise StoreUnavailable(
                f"cannot reach the Modelyard server at {self.server_url}: {error}; check that"
                " `modelyard server` is running and the server URL is right",
                server_url=self.server_url,
            ) from error
        if response.status_code >= 400:
            raise _error_from(response)
        return response.json()

    # Experiments -----------------------------------------------------------------------------

    def get_or_create_experiment(self, name: str) -> Experiment:
        return Experiment.from_dict(self._call("POST", "/experiments", json={"name": name}))

    def get_experiment(self, name: str) -> Experiment:
        return Experiment.from_dict(self._call("GET", f"/experiments/{_segment(name)}"))

    def list_experiments(self) -> list[Experiment]:
        return [Experiment.from_dict(item) for item in self._call("GET", "/experiments")]

    def delete_experiment(self, name: str) -> list[str]:
        return list(self._call("DELETE", f"/experiments/{_segment(name)}")["deleted_runs"])

    # Runs ------------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_name: str,
        *,
        user: str,
        display_name: str | None = None,
        source: RunSource | None = None,
        parent_id: str | None = None,
        compute_target: str | None = None,
        status: RunStatus = RunStatus.NOT_STARTED,
    ) -> Run:
        body = {
            "experiment_name": experiment_name,
            "user": user,
            "display_name": display_name,
            "source": source.to_dict() if source else None,
            "parent_id": parent_id,
            "compute_target": compute_target,
            "status": status.value,
        }
        return Run.from_dict(self._call("POST", "/runs", json=body))

    def get_run(self, run_id: str) -> Run:
        return Run.from_dict(self._call("GET", f"/runs/{_segment(run_id)}"))

    def list_runs(
        self,
        experiment_name: str | None = None,
        *,
        statuses: Sequence[RunStatus] | None = None,
        parent_id: str | None = None,
        limit: int = 1000,
    ) -> list[Run]:
        params: dict[str, Any] = {"limit": limit}
        if experiment_name is not None:
            params["experiment"] = experiment_name
        if statuses:
            params["status"] = [status.value for status in statuses]
        if parent_id is not None:
            params["parent_id"] = parent_id
        return [Run.from_dict(item) for item in self._call("GET", "/runs", params=params)]

    def transition_run(self, run_id: str, target: RunStatus, *, error: str | None = None) -> Run:
        body = {"target": target.value, "error": error}
        return Run.from_dict(self._call("POST", f"/runs/{_segment(run_id)}/transition", json=body))

    def record_process(self, run_id: str, host: str, pid: int, pid_started_at: float) -> None:
        body = {"host": host, "pid": pid, "pid_started_at": pid_started_at}
        self._call("POST", f"/runs/{_segment(run_id)}/process", json=body)

    def heartbeat(self, run_id: str) -> Run:
        return Run.from_dict(self._call("POST", f"/runs/{_segment(run_id)}/heartbeat"))

    def list_runs_silent_since(self, moment: datetime) -> list[Run]:
        found = self._call("GET", "/runs-silent", params={"since": moment.isoformat()})
        return [Run.from_dict(item) for item in found]

    # Logged data -----------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        body = {
            "metrics": [metric.to_dict() for metric in metrics],
            "params": dict(params) if params is not None else None,
            "tags": dict(tags) if tags is not None else None,
        }
        self._call("POST", f"/runs/{_segment(run_id)}/batch", json=body)

    def add_properties(self, run_id: str, properties: Mapping[str, str]) -> None:
        body = {"properties": dict(properties)}
        self._call("POST", f"/runs/{_segment(run_id)}/properties", json=body)

    def get_metric_history(self, run_id: str, name: str | None = None) -> list[Metric]:
        params = {"name": name} if name is not None else {}
        found = self._call("GET", f"/runs/{_segment(run_id)}/metrics", params=params)
        return [Metric.from_dict(item) for item in found]

    def get_run_data(self, run_id: str) -> RunData:
        return RunData.from_dict(self._call("GET", f"/runs/{_segment(run_id)}/data"))


def _segment(value: str) -> str:
    """One URL path segment: `/`, `?`, `#` and `%` in a name must not change the route."""
    return quote(str(value), safe="")


def _error_from(response: httpx.Response) -> ModelyardError:
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
