"""A model is a port type of its own (`custom_model`): a model output may feed a command's
folder input (a model is a folder), but a step that takes a model refuses a plain folder of
data, saying why; the split, evaluate and register_model steps' fields are checked when the
file is read. Each refusal is one line naming the step and the field; nothing runs."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelyard.entities.pipeline_steps import BUILTIN_STEP_DESCRIPTIONS, BUILTIN_STEP_KINDS
from modelyard.entities.pipelines import Pipeline, PortType
from modelyard.errors import InvalidValue
from modelyard.services.pipelines.pipeline_file import pipeline_from_dict

HEAD = """
type: pipeline
experiment_name: models
inputs:
  images: {type: uri_folder, path: ./images}
  table: {type: uri_file, path: ./iris.csv}
  weights: {type: custom_model, path: ./weights}
jobs:
  train:
    type: automl
    task: classification
    target_column_name: target
    inputs: {training_data: '${{parent.inputs.table}}'}
"""


def pipeline(tmp_path: Path, jobs: str) -> Pipeline:
    for folder in ("images", "weights", "code"):
        (tmp_path / folder).mkdir(exist_ok=True)
    (tmp_path / "iris.csv").write_text("a,target\n1,x\n2,y\n")
    (tmp_path / "code" / "use.py").write_text("print(1)\n")
    text = textwrap.dedent(HEAD) + textwrap.indent(textwrap.dedent(jobs), "  ")
    spec: dict[str, Any] = yaml.safe_load(text)
    return pipeline_from_dict(spec, tmp_path).check()


def refusal(tmp_path: Path, jobs: str) -> str:
    with pytest.raises(InvalidValue) as raised:
        pipeline(tmp_path, jobs)
    assert "\n" not in raised.value.message
    return raised.value.message


def test_a_model_is_a_folder_but_a_folder_is_no_model() -> None:
    assert PortType.URI_FOLDER.accepts(PortType.CUSTOM_MODEL)
    assert not PortType.CUSTOM_MODEL.accepts(PortType.URI_FOLDER)
    assert PortType.CUSTOM_MODEL.is_data and PortType.CUSTOM_MODEL.is_folder
    assert BUILTIN_STEP_KINDS["automl"].outputs["best_model"] is PortType.CUSTOM_MODEL
    assert BUILTIN_STEP_KINDS["image_classification"].outputs["model"] is PortType.CUSTOM_MODEL
    assert set(BUILTIN_STEP_DESCRIPTIONS) == {"split", "evaluate", "register_model"}


def test_model_outputs_feed_model_inputs_and_command_folders(tmp_path: Path) -> None:
    checked = pipeline(
        tmp_path,
        """
        split:
          type: split
          inputs: {data: '${{parent.inputs.table}}'}
          test_size: 0.3
          seed: 4
        judge:
          type: evaluate
          inputs:
            model: '${{parent.jobs.train.outputs.best_model}}'
            data: '${{parent.jobs.split.outputs.test}}'
          label_column: target
        keep:
          type: register_model
          inputs: {model: '${{parent.inputs.weights}}'}
          model_name: iris
          tags: {stage: dev}
        score:
          type: batch_score
          inputs: {model: 'model:pets:2', data: '${{parent.inputs.images}}'}
        use:
          code: ./code
          command: python use.py --model ${{inputs.model}} --out ${{outputs.copy}}
          inputs: {model: {type: uri_folder, path: '${{parent.jobs.train.outputs.best_model}}'}}
          outputs: {copy: {type: custom_model}}
        again:
          type: register_model
          inputs: {model: '${{parent.jobs.use.outputs.copy}}'}
          model_name: copied
        """,
    )
    steps = checked.steps
    assert set(steps["split"].output_ports()) == {"train", "test"}
    assert steps["judge"].output_ports()["metrics"].type is PortType.URI_FOLDER
    assert steps["keep"].output_ports() == {}
    assert steps["use"].outputs["copy"].type is PortType.CUSTOM_MODEL
    assert checked.order().index("again") > checked.order().index("use")


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        (
            """
            judge:
              type: evaluate
              inputs: {model: '${{parent.inputs.images}}', data: '${{parent.inputs.images}}'}
            """,
            "step 'judge' (evaluate) input 'model' is fed parent input 'images', which is"
            " uri_folder: a evaluate step reads custom_model or string there",
        ),
        (
            """
            keep:
              type: register_model
              inputs: {model: 'model:pets:2'}
              model_name: pets
            """,
            "step 'keep' (register_model) input 'model' is fed the literal 'model:pets:2', which"
            " is string: a register_model step reads custom_model there",
        ),
        (
            """
            score:
              type: batch_score
              inputs:
                model: '${{parent.jobs.split.outputs.train}}'
                data: '${{parent.inputs.images}}'
            split:
              type: split
              inputs: {data: '${{parent.inputs.images}}'}
            """,
            "step 'score' (batch_score) input 'model' is fed output 'train' of step 'split',"
            " which is uri_folder: a batch_score step reads custom_model or string there",
        ),
        (
            """
            use:
              code: ./code
              command: python use.py --model ${{inputs.model}}
              inputs: {model: {type: custom_model, path: '${{parent.inputs.images}}'}}
            """,
            "step 'use' input 'model' is custom_model but is fed parent input 'images', which is"
            " uri_folder: bind it to a custom_model or change its type",
        ),
        (
            """
            keep:
              type: register_model
              inputs: {model: '${{parent.jobs.train.outputs.best_model}}'}
            """,
            "step 'keep' (register_model) needs 'model_name': add it, as in 'model_name:",
        ),
        (
            """
            keep:
              type: register_model
              inputs: {model: '${{parent.jobs.train.outputs.best_model}}'}
              model_name: 'pets:2'
            """,
            "step 'keep' (register_model): model_name: invalid model name 'pets:2'",
        ),
        (
            """
            split:
              type: split
              inputs: {data: '${{parent.inputs.table}}'}
              test_size: 1.5
            """,
            "step 'split' (split): test_size 1.5 is out of range: give the test share as a"
            " number between 0 and 1",
        ),
        (
            """
            split:
              type: split
              inputs: {data: '${{parent.inputs.table}}'}
              outputs: {validation: {type: uri_folder}}
            """,
            "step 'split' (split) has output 'validation', which a split step does not write:"
            " its outputs are test, train",
        ),
        (
            """
            judge:
              type: evaluate
              inputs: {model: '${{parent.jobs.train.outputs.best_model}}'}
            """,
            "step 'judge' (evaluate) needs input 'data' (uri_file or uri_folder)",
        ),
    ],
)
def test_a_wrong_model_binding_is_refused_with_the_reason(
    tmp_path: Path, jobs: str, expected: str
) -> None:
    assert expected in refusal(tmp_path, jobs)
