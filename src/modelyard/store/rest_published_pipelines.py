"""Published pipelines of a workspace behind a server, through its `/published-pipelines`
routes. A pipeline is published as a job archive (`job.json` with the description, then the
staged pipeline: `pipeline.json` and `steps/…`), as a pipeline job is submitted."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from modelyard.entities.published_pipelines import PublishedPipeline, PublishedPipelineVersion
from modelyard.store.rest_client import RestClient, segment

ROUTE = "/published-pipelines"


class RestPublishedPipelines:
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def publish(self, name: str, archive: Path) -> PublishedPipelineVersion:
        """`archive`: the packed pipeline (services/pipelines/published.py)."""
        answer = self.client.post_job_archive(f"{ROUTE}/{segment(name)}/versions", archive)
        return PublishedPipelineVersion.from_dict(answer)

    def publish_run(self, name: str, run_id: str, description: str) -> PublishedPipelineVersion:
        body = {"run_id": run_id, "description": description}
        answer = self.client.call("POST", f"{ROUTE}/{segment(name)}/versions/from-run", json=body)
        return PublishedPipelineVersion.from_dict(answer)

    def list_all(self) -> list[PublishedPipeline]:
        return [PublishedPipeline.from_dict(item) for item in self.client.call("GET", ROUTE)]

    def details(self, name: str) -> tuple[PublishedPipeline, list[PublishedPipelineVersion]]:
        """The published pipeline and its versions, newest first."""
        answer: dict[str, Any] = self.client.call("GET", f"{ROUTE}/{segment(name)}")
        versions = [PublishedPipelineVersion.from_dict(item) for item in answer["versions"]]
        return PublishedPipeline.from_dict(answer), versions

    def version(self, name: str, version: int | None) -> PublishedPipelineVersion:
        shown = "default" if version is None else str(version)
        answer = self.client.call("GET", f"{ROUTE}/{segment(name)}/versions/{shown}")
        return PublishedPipelineVersion.from_dict(answer)

    def set_default(self, name: str, version: int) -> PublishedPipeline:
        body = {"version": version}
        answer = self.client.call("PUT", f"{ROUTE}/{segment(name)}/default-version", json=body)
        return PublishedPipeline.from_dict(answer)

    def set_enabled(self, name: str, version: int, enabled: bool) -> PublishedPipelineVersion:
        action = "enable" if enabled else "disable"
        route = f"{ROUTE}/{segment(name)}/versions/{version}/{action}"
        return PublishedPipelineVersion.from_dict(self.client.call("POST", route))

    def invoke(self, name: str, version: int | None, body: Mapping[str, Any]) -> dict[str, Any]:
        """`body`: experiment_name, parameters (JSON's types), display_name; answers the new
        run's id and portal link."""
        route = f"{ROUTE}/{segment(name)}"
        if version is not None:
            route += f"/versions/{version}"
        answer: dict[str, Any] = self.client.call("POST", f"{route}/runs", json=dict(body))
        return answer
