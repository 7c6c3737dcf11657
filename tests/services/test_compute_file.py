"""Compute YAML in Azure ML v2's shape: what it asks for, and one clear line for what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.entities.compute import ComputeRequest, ComputeType, Priority
from modelyard.errors import InvalidValue, NotFound
from modelyard.services.compute_file import load_compute_file

AZURE_V2 = """\
$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json
name: gpu-pool
type: amlcompute
size: Standard_NC12
tier: low_priority
min_instances: 0
max_instances: 3
idle_time_before_scale_down: 120
description: two GPUs a node
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "compute.yml"
    path.write_text(text)
    return path


def test_azures_file_reads_as_a_request(tmp_path: Path) -> None:
    request = load_compute_file(_file(tmp_path, AZURE_V2))
    assert request == ComputeRequest(
        name="gpu-pool",
        type=ComputeType.LOCAL,  # Azure's managed cluster is, here, this host's processes
        size="Standard_NC12",
        priority=Priority.LOW_PRIORITY,
        min_nodes=0,
        max_nodes=3,
        idle_seconds_before_scaledown=120,
        description="two GPUs a node",
    )


def test_a_ray_file_and_a_name_from_the_command_line(tmp_path: Path) -> None:
    text = "name: in-file\ntype: ray\naddress: http://127.0.0.1:8265\ntier: dedicated\n"
    request = load_compute_file(_file(tmp_path, text), name="from-cli")
    assert (request.name, request.type, request.address, request.priority) == (
        "from-cli",
        ComputeType.RAY,
        "http://127.0.0.1:8265",
        Priority.DEDICATED,
    )
    minimal = load_compute_file(_file(tmp_path, "name: cpu\n"))
    assert minimal == ComputeRequest(name="cpu")  # every default, checked later like flags


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: a\nlocation: westus\n", "unknown field 'location': use only $schema, address,"),
        ("type: local\n", "needs 'name': add it, or give NAME"),
        ("name: a\ntier: spot\n", "priority 'spot' is not known"),
        ("name: a\ntype: kubernetes\n", "compute type 'kubernetes' is not known"),
        ("name: a\nmax_instances: two\n", "'max_instances' must be a whole number, not 'two'"),
        ("name: a\nmin_instances: true\n", "'min_instances' must be a whole number"),
        ("name: a\nsize: [a, b]\n", "'size' must be a single value"),
        ("- name: a\n", "must be a YAML mapping"),
        ("name: [unclosed\n", "is not valid YAML at line"),
    ],
)
def test_what_is_wrong_is_one_line(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        load_compute_file(_file(tmp_path, text))
    assert words in refused.value.message
    assert "\n" not in refused.value.message


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="check the -f path"):
        load_compute_file(tmp_path / "nope.yml")
