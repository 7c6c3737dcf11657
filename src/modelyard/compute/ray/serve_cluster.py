"""A ray compute's cluster as Ray Serve's host, for the endpoints service: what Serve runs there
(the dashboard's `GET /api/serve/applications/`, read-only) and short Ray jobs that change it
(started, awaited up to a deadline, stopped past it). Every call has a timeout: a cluster that
does not answer is a one-line `ComputeUnavailable` naming its address and the fix.

Serve is changed through jobs rather than the dashboard's `PUT /api/serve/applications/`: that
call replaces every application of the cluster with the ones it names, which would take down
what other endpoints (and other workspaces) run there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import httpx

from modelyard.compute.base import BackendState, Capacity
from modelyard.compute.ray.backend import CONNECT_TIMEOUT_S, RayCompute
from modelyard.compute.ray.submission import STATES
from modelyard.entities.compute import ComputeTarget
from modelyard.errors import ComputeUnavailable

SERVE_DETAILS_PATH: Final = "/api/serve/applications/"
_READ_TIMEOUT_S: Final = 30.0
_GLANCE_TIMEOUT: Final = httpx.Timeout(5.0, connect=2.0)  # a page showing what runs
_POLL_S: Final = 0.5
_ENDED: Final = frozenset({BackendState.SUCCEEDED, BackendState.FAILED, BackendState.STOPPED})


@dataclass(frozen=True)
class ServeProxy:
    """Where Serve's HTTP proxies listen (the same options on every node)."""

    host: str
    port: int


@dataclass(frozen=True)
class ServeApplication:
    name: str
    status: str  # Serve's: DEPLOYING, RUNNING, DEPLOY_FAILED, UNHEALTHY, DELETING, …
    message: str
    route_prefix: str | None


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: Ray's state, its log, and Ray's own words (a runtime_env that failed);
    `timed_out` when it was stopped for passing its deadline."""

    state: BackendState
    log: str
    message: str | None
    timed_out: bool = False

    @property
    def succeeded(self) -> bool:
        return self.state is BackendState.SUCCEEDED


class ServeCluster:
    def __init__(self, compute: ComputeTarget) -> None:
        self.jobs = RayCompute(compute)  # the Jobs API client, its timeouts and its errors
        self.compute = compute
        self.address = self.jobs.address

    def capacity(self) -> Capacity:
        """The largest live node's: one replica must fit on one node."""
        return self.jobs.capacity()

    def proxy(self) -> ServeProxy | None:
        """Serve's proxy options, or None while Serve is not running on the cluster."""
        options = self.details().get("http_options")
        if not options or options.get("port") is None:
            return None
        return ServeProxy(str(options.get("host") or "127.0.0.1"), int(options["port"]))

    def application(self, name: str) -> ServeApplication | None:
        found = self.details().get("applications", {}).get(name)
        if found is None:
            return None
        return ServeApplication(
            name,
            str(found.get("status", "")),
            str(found.get("message") or ""),
            found.get("route_prefix"),
        )

    def glance(self) -> dict[str, Any]:
        """`details()` with short timeouts: for pages that must not wait on a cluster."""
        return self.details(_GLANCE_TIMEOUT)

    def run_job(
        self, submission_id: str, entrypoint: str, runtime_env: dict[str, Any], timeout_s: float
    ) -> JobOutcome:
        """Submit a job and wait for its end; past `timeout_s` it is stopped."""
        client = self.jobs.client()
        with self.jobs.reaching():
            client.submit_job(
                submission_id=submission_id,
                entrypoint=entrypoint,
                runtime_env=runtime_env,
                metadata={"modelyard_submission": submission_id},
            )
        deadline = time.monotonic() + timeout_s
        state = self._job_state(submission_id)
        while state not in _ENDED and time.monotonic() < deadline:
            time.sleep(_POLL_S)
            state = self._job_state(submission_id)
        timed_out = state not in _ENDED
        if timed_out:
            with self.jobs.reaching():
                client.stop_job(submission_id)
        with self.jobs.reaching():
            info = client.get_job_info(submission_id)
            log = str(client.get_job_logs(submission_id))
        return JobOutcome(state, log, str(info.message) if info.message else None, timed_out)

    def _job_state(self, submission_id: str) -> BackendState:
        with self.jobs.reaching():
            status = self.jobs.client().get_job_status(submission_id)
        return STATES.get(str(getattr(status, "value", status)), BackendState.UNKNOWN)

    def details(self, timeout: httpx.Timeout | None = None) -> dict[str, Any]:
        """Serve's own account of itself on the cluster (`ServeInstanceDetails`): its proxy
        options and every application with its deployments and their replicas; empty while
        Serve does not run."""
        url = f"{self.address}{SERVE_DETAILS_PATH}"
        timeout = timeout or httpx.Timeout(_READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        try:
            answer = httpx.get(url, timeout=timeout)
        except httpx.HTTPError as error:
            raise self.jobs.unavailable(error) from None
        if answer.status_code == 501:  # the dashboard has no Serve: ray[serve] is missing
            raise ComputeUnavailable(
                f"the Ray cluster at {self.address} cannot run Ray Serve: its nodes lack"
                " ray[serve]; fix: pip install 'ray[serve]' on them and restart the cluster",
                compute=self.compute.name,
                address=self.address,
            )
        if not answer.is_success:
            cause = answer.text.strip().splitlines()[0][:200] if answer.text.strip() else ""
            raise self.jobs.unavailable(RuntimeError(f"{answer.status_code} {cause}".strip()))
        details: dict[str, Any] = answer.json()
        return details


def running_replicas(details: dict[str, Any], app: str) -> int:
    """How many replicas of `app` Serve has RUNNING in its `details()`."""
    found = details.get("applications", {}).get(app) or {}
    deployments = (found.get("deployments") or {}).values()
    states = [r.get("state") for d in deployments for r in d.get("replicas") or []]
    return states.count("RUNNING")
