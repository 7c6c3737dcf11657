"""Compute targets of a workspace behind a server, through its `/computes` routes: what
`modelyard compute …` and the SDK's `ComputeTarget` do when the workspace is a URL.

The server owns the queue and the backends; this side only asks. A refusal comes back as the
server's own `ModelyardError` (a Failed compute holding a name: `ComputeErrored`, 409).
"""

from __future__ import annotations

from typing import Any

from modelyard.entities import Run
from modelyard.entities.compute import ComputeRequest, ComputeTarget
from modelyard.entities.records import RunAttempt
from modelyard.store.rest_client import RestClient, segment


class RestCompute:
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def create_compute(self, request: ComputeRequest) -> ComputeTarget:
        return ComputeTarget.from_dict(self.client.call("POST", "/computes", json=_body(request)))

    def get_compute(self, name: str) -> ComputeTarget:
        return ComputeTarget.from_dict(self._details(name))

    def list_computes(self) -> list[ComputeTarget]:
        return [ComputeTarget.from_dict(item) for item in self.client.call("GET", "/computes")]

    def compute_details(self, name: str) -> tuple[ComputeTarget, list[Run], list[Run]]:
        """The compute, the runs holding its nodes, and its queue in order."""
        answer = self._details(name)
        running = [Run.from_dict(item) for item in answer["running"]]
        queued = [Run.from_dict(item) for item in answer["queue"]]
        return ComputeTarget.from_dict(answer), running, queued

    def delete_compute(self, name: str, force: bool) -> None:
        self.client.call(
            "DELETE", f"/computes/{segment(name)}", params={"force": "true" if force else "false"}
        )

    def preempt(self, name: str, run_id: str | None) -> list[Run]:
        answer = self.client.call(
            "POST", f"/computes/{segment(name)}/preempt", json={"run_id": run_id}
        )
        return [Run.from_dict(item) for item in answer]

    def list_attempts(self, run_id: str) -> list[RunAttempt]:
        answer = self.client.call("GET", f"/runs/{segment(run_id)}/attempts")
        return [RunAttempt.from_dict(item) for item in answer]

    def _details(self, name: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.call("GET", f"/computes/{segment(name)}")
        return answer


def _body(request: ComputeRequest) -> dict[str, Any]:
    return {
        "name": request.name,
        "type": request.type.value,
        "size": request.size,
        "priority": request.priority.value,
        "min_nodes": request.min_nodes,
        "max_nodes": request.max_nodes,
        "idle_seconds_before_scaledown": request.idle_seconds_before_scaledown,
        "address": request.address,
        "description": request.description,
    }
