"""`RestStore`: the tracking store interface spoken over HTTP to `modelyard server`.

It behaves like `SqlStore` call for call, errors included: the server sends every refusal as
`{"code", "message", "context"}` and this client raises the same `ModelyardError` subclass.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from modelyard.entities import Experiment, Metric, Run, RunData, RunSource, RunStatus
from modelyard.entities.metric_series import DEFAULT_MAX_POINTS, MetricSeriesRead
from modelyard.entities.records import float_to_json
from modelyard.entities.run_query import RunPage, RunQuery
from modelyard.entities.validation import check_batch
from modelyard.errors import StoreUnavailable
from modelyard.store.rest_client import DEFAULT_TIMEOUT_S, RestClient, server_sent_events
from modelyard.store.rest_client import segment as _segment

# Reads wait for the next event as long as the run is quiet (the server sends a keep-alive
# comment every 15 s); connecting and writing fail fast.
_STREAM_TIMEOUT = httpx.Timeout(10.0, read=60.0)


def batch_json(
    metrics: Sequence[Metric], params: Mapping[str, str] | None, tags: Mapping[str, str] | None
) -> str:
    """The batch's JSON body, the text `json.dumps` gives of the points' `to_dict()`s but
    written in one pass: building the dicts and encoding them was ~3 ms of a 1,000-point
    request, most of the client's part. A plain point (float value and time, int step) is
    formatted here, each name quoted once; any other goes through `to_dict()`."""
    quoted: dict[str, str] = {}
    points = []
    for metric in metrics:
        name, value, step, moment = metric.name, metric.value, metric.step, metric.timestamp
        if type(value) is float and type(step) is int and type(moment) is float:
            shown = repr(value) if value - value == 0.0 else f'"{float_to_json(value)}"'
            name_json = quoted.get(name) or quoted.setdefault(name, json.dumps(name))
            points.append(
                f'{{"name":{name_json},"value":{shown},"step":{step},"timestamp":{moment!r}}}'
            )
        else:
            points.append(json.dumps(metric.to_dict()))
    pairs = json.dumps({"params": params, "tags": tags}, default=dict)
    return f'{{"metrics":[{",".join(points)}],{pairs[1:]}'


class RestStore:
    def __init__(
        self,
        server_url: str | RestClient,
        token: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        self.client = (
            server_url
            if isinstance(server_url, RestClient)
            else RestClient(server_url, token, timeout_s)
        )
        self.server_url = self.client.server_url
        self._call = self.client.call

    def close(self) -> None:
        self.client.close()

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
        # `user` is not sent: the server files the run under whoever the token belongs to.
        body = {
            "experiment_name": experiment_name,
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
        id_prefix: str | None = None,
        display_name: str | None = None,
        limit: int = 1000,
    ) -> list[Run]:
        filters = {
            "experiment": experiment_name,
            "parent_id": parent_id,
            "id_prefix": id_prefix,
            "display_name": display_name,
        }
        params: dict[str, Any] = {key: value for key, value in filters.items() if value is not None}
        params["limit"] = limit
        if statuses:
            params["status"] = [status.value for status in statuses]
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
        # The server's own check, here first: what JSON cannot carry (a NaN or infinite time)
        # is refused in the same one line instead of failing in the encoder.
        check_batch(metrics, params, tags)
        self._call(
            "POST",
            f"/runs/{_segment(run_id)}/batch",
            content=batch_json(metrics, params, tags),
            headers={"content-type": "application/json"},
        )

    def add_properties(self, run_id: str, properties: Mapping[str, str]) -> None:
        body = {"properties": dict(properties)}
        self._call("POST", f"/runs/{_segment(run_id)}/properties", json=body)

    def get_metric_history(self, run_id: str, name: str | None = None) -> list[Metric]:
        params = {"name": name} if name is not None else {}
        found = self._call("GET", f"/runs/{_segment(run_id)}/metrics", params=params)
        return [Metric.from_dict(item) for item in found]

    def get_run_data(self, run_id: str) -> RunData:
        return RunData.from_dict(self._call("GET", f"/runs/{_segment(run_id)}/data"))

    # Runs tables and charts ----------------------------------------------------------------------

    def query_runs(self, query: RunQuery) -> RunPage:
        return RunPage.from_dict(self._call("GET", "/runs-query", params=_query_params(query)))

    def read_metric_series(
        self,
        run_id: str,
        names: Sequence[str] = (),
        max_points: int = DEFAULT_MAX_POINTS,
        known_version: str | None = None,
    ) -> MetricSeriesRead:
        params: dict[str, Any] = {"name": list(names), "max_points": max_points}
        if known_version is not None:
            params["version"] = known_version
        found = self._call("GET", f"/runs/{_segment(run_id)}/metric-series", params=params)
        return MetricSeriesRead.from_dict(found)

    # Jobs and logs: what only the server's machine can do ---------------------------------------

    def submit_job(self, archive: Path) -> Run:
        """Send a packed job (services.job_upload) to run on the server's compute."""
        return Run.from_dict(self.client.post_job_archive("/jobs", archive))

    def cancel_run(self, run_id: str) -> Run:
        return Run.from_dict(self._call("POST", f"/runs/{_segment(run_id)}/cancel"))

    def resume_run(self, run_id: str, job: str | None = None) -> Run:
        """A sweep or AutoML run that ended Failed or Canceled, queued again as its next
        attempt (`services/resume.py` on the server); `job` refuses a run of another kind."""
        body = {"job": job}
        return Run.from_dict(self._call("POST", f"/runs/{_segment(run_id)}/resume", json=body))

    def requeue_preempted(self, run_id: str, cause: str) -> Run:
        """A preempted run whose job has stopped, back in the queue (its job's token)."""
        body = {"cause": cause}
        return Run.from_dict(self._call("POST", f"/runs/{_segment(run_id)}/requeue", json=body))

    def read_log(self, run_id: str, path: str, offset: int = 0) -> str:
        """The log from `offset` as it is now, read chunk by chunk (the server sends at most
        1 MiB an answer)."""
        parts: list[str] = []
        while True:
            params = {"path": path, "offset": offset}
            chunk = self._call("GET", f"/runs/{_segment(run_id)}/logs", params=params)
            if not chunk["text"]:
                return "".join(parts)
            parts.append(str(chunk["text"]))
            offset = int(chunk["offset"])

    def follow_log(self, run_id: str, path: str, offset: int = 0) -> Iterator[str]:
        """The log as it grows, pushed by the server (server-sent events), until the run ended
        and the log is drained; a dropped connection resumes where it stopped."""
        while True:
            ended, offset = yield from self._log_events(run_id, path, offset)
            if ended:
                return

    def _log_events(
        self, run_id: str, path: str, offset: int
    ) -> Generator[str, None, tuple[bool, int]]:
        url = f"/runs/{_segment(run_id)}/logs/stream"
        params = {"path": path, "offset": offset}
        received = False
        try:
            with self.client.stream("GET", url, params=params, timeout=_STREAM_TIMEOUT) as response:
                for name, data in server_sent_events(response.iter_lines()):
                    received, offset = True, int(data["offset"])
                    if name == "end":
                        return True, offset
                    yield str(data["text"])
        except StoreUnavailable:
            if not received:
                raise
            # The connection dropped after some progress: reconnect from the last offset.
        return False, offset


def _query_params(query: RunQuery) -> dict[str, Any]:
    """The query in the text forms `GET /runs-query` parses (the portal's URL forms)."""
    params: dict[str, Any] = {
        "status": [status.value for status in query.statuses],
        "tag": [f"{key}={value}" for key, value in query.tags.items()],
        "metric": [rule.to_text() for rule in query.metric_filters],
        "sort": query.order_by,
        "order": "desc" if query.descending else "asc",
        "offset": query.offset,
        "limit": query.limit,
    }
    if query.experiment is not None:
        params["experiment"] = query.experiment
    if query.parent_id is not None:
        params["parent"] = query.parent_id
    return params
