"""The no-code image scorer deployed from the registry behind an endpoint: the vision tests'
real tiny ONNX classifier registered as a Model Builder folder, deployed with no entry script
(the preflight scores a generated image), called with image bytes through the endpoint's front."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from replicas import png_bytes

from endpoint_support import endpoints_cleaned_up
from modelyard.entities.endpoints import DeploymentRequest, DeploymentState
from modelyard.entities.registry import ModelVersionRequest
from modelyard.services import endpoints, models
from modelyard.services.workspaces import OpenWorkspace, create_workspace
from vision.conftest import TINY_LABELS

pytest_plugins = ["vision.conftest"]


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[OpenWorkspace]:
    opened = create_workspace("image-ws", path=tmp_path / "ws")
    try:
        with endpoints_cleaned_up(opened):
            yield opened
    finally:
        opened.close()


def test_an_image_classifier_serves_model_output_through_its_endpoint(
    ws: OpenWorkspace, model_builder_dir: Path
) -> None:
    version = models.register_model(ws, model_builder_dir, ModelVersionRequest("flowers"))

    deployment = endpoints.deploy(
        ws, DeploymentRequest(endpoint="flowers", name="blue", model="flowers")
    )
    endpoint = endpoints.get_endpoint(ws, "flowers")
    answer = httpx.post(
        endpoint.scoring_uri,
        content=png_bytes((200, 40, 40)),
        headers={"Authorization": f"Bearer {endpoint.secondary_key}", "Content-Type": "image/png"},
        timeout=60,
    )

    assert deployment.state is DeploymentState.SUCCEEDED
    assert deployment.resolved_model == version.reference
    assert answer.status_code == 200, answer.text
    output = answer.json()
    assert output["Prediction"] in TINY_LABELS
    assert set(output["Score"]) == set(TINY_LABELS)
    swagger = httpx.get(endpoint.swagger_uri, timeout=30)
    assert swagger.status_code == 200 and "paths" in swagger.json()
