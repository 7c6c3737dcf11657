"""Pipeline drafts of a workspace behind a server, through its `/pipeline-drafts` routes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelyard.entities.pipeline_drafts import DraftSummary
from modelyard.store.rest_client import RestClient, segment

ROUTE = "/pipeline-drafts"


class RestPipelineDrafts:
    def __init__(self, client: RestClient) -> None:
        self.client = client

    def save(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """`body`: {definition, layout?, revision?}; the answer: the draft with its problem."""
        answer: dict[str, Any] = self.client.call("PUT", f"{ROUTE}/{segment(name)}", json=body)
        return answer

    def get(self, name: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.call("GET", f"{ROUTE}/{segment(name)}")
        return answer

    def list_all(self) -> list[DraftSummary]:
        return [DraftSummary.from_dict(item) for item in self.client.call("GET", ROUTE)]

    def delete(self, name: str) -> None:
        self.client.call("DELETE", f"{ROUTE}/{segment(name)}")
