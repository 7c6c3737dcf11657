"""`RayCompute`: runs of a `--type ray` compute as jobs of the Ray Jobs API.

Each attempt of a run is one Ray job (`submission.py`): the run's code snapshot as
`working_dir`, `python -m modelyard.runtime.remote_supervisor` as entrypoint, the compute's size
as entrypoint resources. The handle is the submission id. Ray is imported on first use (the
`ray` extra), and every call to the cluster has short timeouts: a cluster that does not answer
is a one-line `ComputeUnavailable` naming the address and the fix, never a hang.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from modelyard.compute.base import BackendState, Capacity, LaunchRequest
from modelyard.compute.ray.submission import (
    STATES,
    check_submission_id,
    submission_for,
)
from modelyard.entities.compute import ComputeTarget
from modelyard.errors import ComputeUnavailable, InvalidValue
from modelyard.extras import require_extra

CONNECT_TIMEOUT_S = 5.0
# Submitting uploads the snapshot: the read timeout leaves room for that.
READ_TIMEOUT_S = 60.0
STATE_API_TIMEOUT_S = 10
_POLL_S = 0.2


class RayCompute:
    name = "ray"

    def __init__(self, compute: ComputeTarget) -> None:
        require_extra("ray", f"compute {compute.name!r} (type ray)")
        if not compute.address:
            raise InvalidValue(
                f"ray compute {compute.name!r} has no address: recreate it with --address"
                " http://HOST:8265 (its dashboard)",
                compute=compute.name,
            )
        self.compute = compute
        self.address = compute.address.rstrip("/")
        self._client: Any = None

    def capacity(self) -> Capacity:
        """The largest live node's CPUs, memory and GPUs: a job's entrypoint runs on one node,
        so that is the biggest size this cluster can take."""
        from ray.util.state import list_nodes

        with self.reaching():
            nodes = list_nodes(
                address=self.address, timeout=STATE_API_TIMEOUT_S, raise_on_missing_output=False
            )
        alive = [_node_capacity(node.resources_total) for node in nodes if node.state == "ALIVE"]
        if not alive:
            raise ComputeUnavailable(
                f"the Ray cluster at {self.address} has no live node: start one"
                f" (`ray start --address HEAD:PORT`) or check the head's logs",
                compute=self.compute.name,
                address=self.address,
            )
        return max(alive, key=lambda capacity: (capacity.gpus, capacity.cpus, capacity.memory_gib))

    def launch(self, request: LaunchRequest) -> str:
        submission = submission_for(request)
        client = self.client()
        with self.reaching():
            try:
                return str(client.submit_job(**submission.arguments()))
            except RuntimeError as error:
                if "already exists" not in str(error):
                    raise
        # Submitted before (a launch repeated after a crash): the same job, the same handle.
        return submission.submission_id

    def state(self, handle: str) -> BackendState:
        client = self.client()
        with self.reaching():
            try:
                status = client.get_job_status(check_submission_id(handle))
            except RuntimeError as error:
                if "404" in str(error) or "does not exist" in str(error):
                    return BackendState.GONE
                raise
        return STATES.get(str(getattr(status, "value", status)), BackendState.UNKNOWN)

    def cancel(self, handle: str, grace_s: float) -> bool:
        """Ray's stop (SIGTERM to the job's processes, SIGKILL after the job's
        RAY_JOB_STOP_WAIT_TIME_S), then up to `grace_s` for it to end; True once it has."""
        client = self.client()
        with self.reaching():
            try:
                client.stop_job(check_submission_id(handle))
            except RuntimeError as error:
                if "404" in str(error) or "does not exist" in str(error):
                    return True
                raise
        deadline = time.monotonic() + grace_s
        while True:
            state = self.state(handle)
            if state not in (BackendState.PENDING, BackendState.RUNNING):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)

    def read_log(self, handle: str) -> str | None:
        """Ray's log of the job: the supervisor's lines and the script's output. None once Ray
        no longer knows the job."""
        client = self.client()
        with self.reaching():
            try:
                return str(client.get_job_logs(check_submission_id(handle)))
            except RuntimeError as error:
                if "404" in str(error) or "does not exist" in str(error):
                    return None
                raise

    def ended_reason(self, handle: str) -> str | None:
        """Ray's own words for how the job ended (`JobInfo.message`), for a run whose
        supervisor never recorded an end: a runtime_env that failed to install, a job killed
        with its node. None while it runs or once Ray no longer knows it."""
        client = self.client()
        with self.reaching():
            try:
                info = client.get_job_info(check_submission_id(handle))
            except RuntimeError as error:
                if "404" in str(error) or "does not exist" in str(error):
                    return None
                raise
        if STATES.get(str(getattr(info.status, "value", info.status))) not in _ENDED:
            return None
        return str(info.message) if info.message else None

    def client(self) -> Any:
        """The cluster's Jobs API client, every request of it with a timeout."""
        if self._client is None:
            with self.reaching():
                self._client = _timed_client(self.address)
        return self._client

    @contextlib.contextmanager
    def reaching(self) -> Iterator[None]:
        """Ray's and requests' ways of saying the cluster does not answer, as one line."""
        import requests
        from ray.util.state.exception import RayStateApiException

        try:
            yield
        except (requests.RequestException, ConnectionError, RayStateApiException) as error:
            raise self.unavailable(error) from None
        except RuntimeError as error:
            if "status code 5" in str(error):  # the dashboard answered, its job server did not
                raise self.unavailable(error) from None
            raise

    def unavailable(self, error: Exception) -> ComputeUnavailable:
        cause = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error)
        return ComputeUnavailable(
            f"the Ray cluster at {self.address} does not answer ({cause}): start it"
            " (`ray start --head --dashboard-host 0.0.0.0`) or fix the compute's --address"
            " (the dashboard's http://HOST:8265)",
            compute=self.compute.name,
            address=self.address,
        )


_ENDED = frozenset({BackendState.SUCCEEDED, BackendState.FAILED, BackendState.STOPPED})


def _node_capacity(resources: dict[str, float]) -> Capacity:
    return Capacity(
        cpus=float(resources.get("CPU", 0.0)),
        memory_gib=float(resources.get("memory", 0.0)) / 2**30,
        gpus=int(resources.get("GPU", 0)),
    )


def _timed_client(address: str) -> Any:
    """A JobSubmissionClient whose every request has a timeout (Ray's has none: a cluster
    behind a black-holed address would hang it)."""
    from ray.job_submission import JobSubmissionClient

    class TimedJobSubmissionClient(JobSubmissionClient):  # type: ignore[misc]
        def _do_request(self, method: str, endpoint: str, **options: Any) -> Any:
            options.setdefault("timeout", (CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
            return super()._do_request(method, endpoint, **options)

    return TimedJobSubmissionClient(address)
