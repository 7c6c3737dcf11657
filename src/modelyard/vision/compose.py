"""bestModel.onnx without exporting the backbone again: the cached featurizer, then the head.

The frozen backbone is exported to ONNX once per feature-cache key (`featurizer.onnx`, beside
the cached features). A head trained on those features is three operations, added here as ONNX
nodes after the featurizer's output: standardize (Sub, Div), then the linear layer (Gemm). So
a retrain never runs torch.onnx (seconds for ResNet50); the trainer still checks the composed
model against PyTorch before it is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from modelyard.errors import InvalidValue
from modelyard.fileio import write_bytes_atomic
from modelyard.vision.package import INPUT_NAME, OUTPUT_NAME

_PREFIX: Final = "modelyard_head."
_MEAN: Final = _PREFIX + "mean"
_STD: Final = _PREFIX + "std"
_WEIGHT: Final = _PREFIX + "weight"
_BIAS: Final = _PREFIX + "bias"
_CENTRED: Final = _PREFIX + "centred"
_STANDARDIZED: Final = _PREFIX + "standardized"


@dataclass(frozen=True)
class HeadWeights:
    """The head's numbers: logits = ((features − mean) / std) · weightᵀ + bias."""

    mean: Any  # [feature_dim]
    std: Any  # [feature_dim]
    weight: Any  # [classes, feature_dim]
    bias: Any  # [classes]

    @property
    def classes(self) -> int:
        return int(np.shape(self.weight)[0])


def compose_with_head(
    featurizer: Path, head: HeadWeights, path: Path, *, durable: bool = True
) -> None:
    """Write featurizer + head to `path`, atomically: input `input1`, output `output1` logits.

    The featurizer's batch axis stays as it is (dynamic in every featurizer the cache exports).
    `durable=False` skips the fsync, for a staging copy made durable where it is kept.
    """
    model = onnx.load(str(featurizer))
    graph = model.graph
    features = _only_output(graph, featurizer)
    _rename_input(graph, _only_input(graph, featurizer).name, INPUT_NAME)
    _refuse_taken_names(graph, featurizer)
    graph.initializer.extend(_initializers(head))
    graph.node.extend(_head_nodes(features.name))
    logits = helper.make_tensor_value_info(
        OUTPUT_NAME, TensorProto.FLOAT, [_batch_axis(features), head.classes]
    )
    del graph.output[:]
    graph.output.append(logits)
    write_bytes_atomic(path, model.SerializeToString(), durable=durable)


def _only_output(graph: onnx.GraphProto, featurizer: Path) -> onnx.ValueInfoProto:
    if len(graph.output) != 1:
        raise _not_a_featurizer(featurizer, f"{len(graph.output)} outputs, expected 1")
    output: onnx.ValueInfoProto = graph.output[0]
    return output


def _only_input(graph: onnx.GraphProto, featurizer: Path) -> onnx.ValueInfoProto:
    initializers = {initializer.name for initializer in graph.initializer}
    inputs = [value for value in graph.input if value.name not in initializers]
    if len(inputs) != 1:
        raise _not_a_featurizer(featurizer, f"{len(inputs)} inputs, expected 1")
    only: onnx.ValueInfoProto = inputs[0]
    return only


def _batch_axis(value: onnx.ValueInfoProto) -> str | int | None:
    dims = value.type.tensor_type.shape.dim
    return (dims[0].dim_param or dims[0].dim_value or None) if dims else None


def _rename_input(graph: onnx.GraphProto, old: str, new: str) -> None:
    if old == new:
        return
    for value in graph.input:
        if value.name == old:
            value.name = new
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]


def _refuse_taken_names(graph: onnx.GraphProto, featurizer: Path) -> None:
    taken = {name for node in graph.node for name in node.output}
    taken |= {initializer.name for initializer in graph.initializer}
    clashes = sorted(name for name in taken if name.startswith(_PREFIX) or name == OUTPUT_NAME)
    if clashes:
        raise _not_a_featurizer(featurizer, f"it already has values named {clashes[:3]}")


def _initializers(head: HeadWeights) -> list[onnx.TensorProto]:
    arrays = {_MEAN: head.mean, _STD: head.std, _WEIGHT: head.weight, _BIAS: head.bias}
    return [
        numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name)
        for name, array in arrays.items()
    ]


def _head_nodes(features: str) -> list[onnx.NodeProto]:
    return [
        helper.make_node("Sub", [features, _MEAN], [_CENTRED], name=_PREFIX + "sub"),
        helper.make_node("Div", [_CENTRED, _STD], [_STANDARDIZED], name=_PREFIX + "div"),
        helper.make_node(
            "Gemm",
            [_STANDARDIZED, _WEIGHT, _BIAS],
            [OUTPUT_NAME],
            name=_PREFIX + "linear",
            transB=1,
        ),
    ]


def _not_a_featurizer(featurizer: Path, problem: str) -> InvalidValue:
    return InvalidValue(
        f"featurizer {str(featurizer)!r} cannot take a head: {problem}; fix: delete it, the next"
        " run exports it again",
        path=str(featurizer),
    )
