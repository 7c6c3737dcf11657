"""A published pipeline's parameters: command-line text read by each declared type, JSON values
checked against it, unknown names refused with the closest one, references parsed."""

from __future__ import annotations

import pytest

from modelyard.entities.pipelines import PortType
from modelyard.entities.published_pipelines import (
    PipelineParameter,
    check_parameters,
    parse_assignments,
    parse_published_reference,
)
from modelyard.errors import InvalidName, InvalidValue

DECLARED = (
    PipelineParameter("epochs", PortType.INTEGER, 3),
    PipelineParameter("rate", PortType.NUMBER, 0.1),
    PipelineParameter("shuffle", PortType.BOOLEAN, True),
    PipelineParameter("label", PortType.STRING, "x"),
    PipelineParameter("raw", PortType.URI_FOLDER, "data:flowers@latest"),
)


def test_text_is_read_by_the_declared_type() -> None:
    given = {"epochs": "5", "rate": "2", "shuffle": "no", "label": "7", "raw": "data:f:3"}
    assert check_parameters(DECLARED, given, as_text=True) == {
        "epochs": 5,
        "rate": 2,
        "shuffle": False,
        "label": "7",
        "raw": "data:f:3",
    }
    assert check_parameters(DECLARED, {"rate": "0.5"}, as_text=True) == {"rate": 0.5}


def test_json_values_must_have_the_declared_type() -> None:
    assert check_parameters(DECLARED, {"epochs": 5, "rate": 1}, as_text=False) == {
        "epochs": 5,
        "rate": 1,
    }
    wrong = {
        "epochs": ("5", "give a whole number"),
        "rate": (True, "give a number"),
        "shuffle": ("yes", "give true or false"),
        "label": (7, "give a string"),
        "raw": (["a"], "give a data reference (data:NAME@latest) or a folder's path"),
    }
    for name, (value, fix) in wrong.items():
        with pytest.raises(InvalidValue) as refused:
            check_parameters(DECLARED, {name: value}, as_text=False)
        assert refused.value.message.endswith(fix), refused.value.message
        assert refused.value.context == {
            "parameter": name,
            "expected": dict((p.name, p.type.value) for p in DECLARED)[name],
        }


def test_unknown_parameters_name_the_closest() -> None:
    with pytest.raises(InvalidValue, match="no parameter 'epoch': did you mean 'epochs'"):
        check_parameters(DECLARED, {"epoch": 1}, as_text=False)
    with pytest.raises(InvalidValue, match=r"no parameter 'zzz' \(there are epochs, label"):
        check_parameters(DECLARED, {"zzz": 1}, as_text=False)


def test_assignments_and_references() -> None:
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(InvalidValue, match="'a' is not NAME=VALUE"):
        parse_assignments(["a"])
    assert parse_published_reference("etl") == ("etl", None)
    assert parse_published_reference("etl:2") == ("etl", 2)
    with pytest.raises(InvalidValue, match="'two' is not a version number"):
        parse_published_reference("etl:two")
    with pytest.raises(InvalidName):
        parse_published_reference("-etl")
