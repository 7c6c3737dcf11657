"""A pipeline's graph and ports judged before anything runs, and the reuse key's parts."""

from __future__ import annotations

from typing import Any

import pytest

from modelyard.entities.pipelines import (
    Binding,
    Pipeline,
    PipelineInput,
    PortType,
    ReuseKey,
    Step,
    StepInput,
    StepOutput,
    describe_change,
)
from modelyard.errors import InvalidValue


def step(name: str, command: str = "python run.py", **ports: Any) -> Step:
    inputs = {key: StepInput(Binding.parse(value)) for key, value in ports.items()}
    return Step(name, tuple(command.split()), inputs=inputs, outputs={"out": StepOutput()})


def pipeline(*steps: Step, **inputs: PipelineInput) -> Pipeline:
    return Pipeline("etl", "exp", {s.name: s for s in steps}, inputs=inputs)


def test_steps_are_ordered_after_what_they_read_and_their_dependants_are_known() -> None:
    graph = pipeline(
        step("train", data="${{parent.jobs.prep.outputs.out}}"),
        step("score", model="${{parent.jobs.train.outputs.out}}"),
        step("prep"),
        step("report"),
    ).check()
    assert graph.order() == ["prep", "train", "score", "report"]
    assert graph.dependants("prep") == {"train", "score"}
    assert graph.upstream_of("score") == {"train", "prep"}
    assert graph.dependants("report") == set()


def test_a_cycle_is_refused_naming_it() -> None:
    graph = pipeline(
        step("a", x="${{parent.jobs.c.outputs.out}}"),
        step("b", x="${{parent.jobs.a.outputs.out}}"),
        step("c", x="${{parent.jobs.b.outputs.out}}"),
    )
    with pytest.raises(InvalidValue, match=r"steps a → c → b → a form a cycle") as caught:
        graph.check()
    assert caught.value.context["cycle"] == ["a", "c", "b", "a"]


@pytest.mark.parametrize(
    ("binding", "expected"),
    [
        (
            "${{parent.jobs.prepp.outputs.out}}",
            "step 'train' input 'data' reads step 'prepp', which does not exist: did you mean"
            " 'prep'?",
        ),
        (
            "${{parent.jobs.prep.outputs.outt}}",
            "step 'train' input 'data' reads output 'outt' of step 'prep', which it does not"
            " declare: did you mean 'out'?",
        ),
        (
            "${{parent.inputs.rawdata}}",
            "step 'train' input 'data' reads parent input 'rawdata', which the pipeline does"
            " not declare: did you mean 'raw_data'?",
        ),
    ],
)
def test_a_binding_to_nothing_is_refused_with_the_closest_name(binding: str, expected: str) -> None:
    graph = pipeline(
        step("prep"),
        step("train", data=binding),
        raw_data=PipelineInput(PortType.URI_FOLDER, "/data"),
    )
    with pytest.raises(InvalidValue) as caught:
        graph.check()
    assert caught.value.message.startswith(expected)
    assert caught.value.context == {"step": "train", "field": "inputs.data"}


def test_ports_of_mismatched_types_are_refused() -> None:
    train = Step(
        "train",
        ("python", "train.py"),
        inputs={
            "data": StepInput(Binding.parse("${{parent.jobs.prep.outputs.out}}"), PortType.URI_FILE)
        },
    )
    with pytest.raises(InvalidValue) as caught:
        pipeline(step("prep"), train).check()
    assert caught.value.message == (
        "step 'train' input 'data' is uri_file but is fed output 'out' of step 'prep', which"
        " is uri_folder: bind it to a uri_file or change its type"
    )
    # An integer feeds a number; a string does not.
    epochs = PipelineInput(PortType.INTEGER, 3)
    fit = Step(
        "fit",
        ("python", "fit.py"),
        inputs={"lr": StepInput(Binding.parse("${{parent.inputs.epochs}}"), PortType.NUMBER)},
    )
    pipeline(fit, epochs=epochs).check()
    name = Step(
        "n", ("python", "n.py"), inputs={"n": StepInput(Binding(literal="x"), PortType.INTEGER)}
    )
    with pytest.raises(InvalidValue, match="is integer but is fed the literal 'x', which is"):
        pipeline(name).check()


def test_a_command_using_an_undeclared_port_is_refused() -> None:
    graph = pipeline(step("prep", "python prep.py --raw ${{inputs.rows}}", raw="x"))
    with pytest.raises(InvalidValue) as caught:
        graph.check()
    assert caught.value.message == (
        "step 'prep' command uses ${{inputs.rows}}, which the step does not declare under"
        " inputs (there are raw)"
    )


def test_a_step_renders_its_command_one_word_per_word() -> None:
    prep = step("prep", "python prep.py --raw ${{inputs.raw}} --out=${{outputs.out}}", raw="x")
    assert prep.render({"raw": "/data/my files"}, {"out": "outputs/out"}) == (
        "--raw",
        "/data/my files",
        "--out=outputs/out",
    )


KEY = ReuseKey(
    code="c1",
    environment="e1",
    parameters={"command": "python a.py", "n": "5"},
    inputs={"raw": "h1"},
)


def test_the_reuse_key_is_its_parts_and_says_which_changed() -> None:
    assert ReuseKey.from_dict(KEY.to_dict()) == KEY
    assert ReuseKey.from_dict(KEY.to_dict()).digest == KEY.digest
    assert describe_change(None, KEY) == "first run"
    assert describe_change(KEY, KEY) == "nothing changed"
    changed = ReuseKey("c2", "e1", {"command": "python a.py", "n": "6"}, {"raw": "h2"})
    assert describe_change(KEY, changed) == (
        "code changed; parameter `n` changed (5 → 6); input `raw` changed content"
    )
    assert changed.digest != KEY.digest
    other = ReuseKey("c1", "e2", {"command": "python b.py"}, {"raw": "h1", "extra": "h3"})
    assert describe_change(KEY, other) == (
        "environment changed; the command changed; parameter `n` removed; input `extra` added"
    )
