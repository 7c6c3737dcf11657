"""Pipelines in Python, with Azure ML's `azure.ai.ml.dsl` names::

    from modelyard.dsl import Input, load_component, pipeline

See `modelyard.sdk._dsl` for the whole example. A pipeline file (`type: pipeline`) submitted
with `modelyard job create -f pipeline.yml` runs the same way.
"""

from __future__ import annotations

from modelyard.sdk._dsl import Component, Input, StepNode, load_component, pipeline

__all__ = ["Component", "Input", "StepNode", "load_component", "pipeline"]
