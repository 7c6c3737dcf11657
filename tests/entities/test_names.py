"""Name rules at their edges: workspace 3–33, compute 2–16, experiment 1–255."""

import re

import pytest

from modelyard.entities import (
    validate_compute_name,
    validate_experiment_name,
    validate_workspace_name,
)
from modelyard.entities.names import validate_deployment_name, validate_endpoint_name
from modelyard.errors import InvalidName


@pytest.mark.parametrize("name", ["abc", "a" * 33, "my-ws-1", "A-B", "a--", "123"])
def test_workspace_names_accepted(name: str) -> None:
    assert validate_workspace_name(name) == name


@pytest.mark.parametrize(
    "name", ["ab", "a" * 34, "", "my_ws", "my ws", "my.ws", "wörk", "ws/1", "ws\n", "---", "-ws"]
)
def test_workspace_names_refused_with_rule_and_value(name: str) -> None:
    with pytest.raises(InvalidName) as caught:
        validate_workspace_name(name)
    message = caught.value.message
    assert repr(name) in message
    assert "3–33 letters, digits or hyphens" in message
    assert "\n" not in message.replace(repr(name), "")


@pytest.mark.parametrize("name", ["ab", "a" * 16, "cpu-1"])
def test_compute_names_accepted(name: str) -> None:
    assert validate_compute_name(name) == name


@pytest.mark.parametrize("name", ["a", "a" * 17, "cpu_1", "cpu 1", "-x"])
def test_compute_names_refused(name: str) -> None:
    with pytest.raises(InvalidName, match="2–16 letters, digits or hyphens"):
        validate_compute_name(name)


@pytest.mark.parametrize("name", ["a", "1", "a" * 255, "flowers-v2", "x_y.z", "Run.1-a_b"])
def test_experiment_names_accepted(name: str) -> None:
    assert validate_experiment_name(name) == name


@pytest.mark.parametrize("name", ["", "a" * 256, "-a", "_a", ".a", "a b", "a/b", "ä", "a:b"])
def test_experiment_names_refused(name: str) -> None:
    with pytest.raises(InvalidName, match="start with a letter or digit"):
        validate_experiment_name(name)


@pytest.mark.parametrize("name", ["caf\u00e9", "cafe\u0301"])  # NFC and NFD spellings of café
def test_unicode_twins_cannot_become_two_experiments(name: str) -> None:
    """The review saw NFC/NFD twins of one name as two experiments: names are ASCII letters,
    digits, '-', '_' and '.', so neither spelling is a name, and the refusal says which is."""
    with pytest.raises(InvalidName, match=re.escape("letters, digits, '-', '_' or '.'")):
        validate_experiment_name(name)


@pytest.mark.parametrize("name", ["abc", "flowers-api", "a" * 32, "v2-blue", "b1x"])
def test_endpoint_and_deployment_names_accepted(name: str) -> None:
    assert validate_endpoint_name(name) == name
    assert validate_deployment_name(name) == name


@pytest.mark.parametrize("name", ["ab", "a" * 33, "--sample", "000", "1ab", "ab-", "a_b", "a b"])
def test_endpoint_and_deployment_names_start_with_a_letter_and_end_with_one_or_a_digit(
    name: str,
) -> None:
    """Azure's rule; a leading hyphen would also read as an option on the command line."""
    for validate in (validate_endpoint_name, validate_deployment_name):
        with pytest.raises(InvalidName, match="starting with a letter and ending with a letter"):
            validate(name)
