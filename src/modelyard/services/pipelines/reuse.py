"""A step's reuse key and the decision it leads to: reuse an earlier completed run's outputs,
or run, saying why (`describe_change` against the latest earlier run of the step)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from modelyard.data.manifest import HashCache, build_manifest, content_hash_of
from modelyard.entities import Run
from modelyard.entities.data import DataReference, is_data_reference
from modelyard.entities.pipelines import (
    Pipeline,
    ReuseKey,
    Step,
    StepInput,
    describe_change,
)
from modelyard.environments import Environment
from modelyard.errors import NotFound
from modelyard.services import data
from modelyard.services.pipelines.builtin_steps import (
    code_of,
    key_parameters,
    model_reference,
    output_artifact,
    resolve_model,
)
from modelyard.services.pipelines.steps import StepRun
from modelyard.services.workspaces import OpenWorkspace


@dataclass(frozen=True)
class ResolvedInputs:
    values: Mapping[str, str]  # each input as its command word: a path or a literal
    parameters: Mapping[str, str]  # the literal ones (the step run's params)
    key: ReuseKey
    data_inputs: Mapping[str, DataReference] = field(default_factory=dict)  # versions read


@dataclass(frozen=True)
class Decision:
    reason: str
    reuse: str | None = None  # the run whose outputs the step takes, when it is reused


class ReuseKeys:
    """Computes steps' keys; a code snapshot and a completed step's output never change, so
    each is hashed once per driver. A pipeline's data inputs are hashed for each step that
    reads them (their unchanged files from the workspace's hash cache): they may change while
    it runs, and a step's key is what it reads. A data asset version never changes: its key
    part is the content hash its version recorded."""

    def __init__(self, ws: OpenWorkspace, pipeline: Pipeline) -> None:
        self.ws = ws
        self.pipeline = pipeline
        self._hashes: dict[Path, str] = {}

    def resolve(self, step: Step, upstream: Mapping[str, StepRun]) -> ResolvedInputs:
        values: dict[str, str] = {}
        parameters: dict[str, str] = {}
        inputs: dict[str, str] = {}
        versions: dict[str, DataReference] = {}
        for name, port in step.inputs.items():
            binding = port.binding
            reference = self._data_reference(port)
            if reference is not None:
                values[name], inputs[name], versions[name] = self._version(reference)
            elif binding.step is not None:
                assert binding.output is not None
                run = upstream[binding.step].outputs_run
                path = self.output_path(self.pipeline.steps[binding.step], run, binding.output)
                values[name], inputs[name] = str(path), self._sealed_hash(path)
            elif self._names_model(step, port):
                values[name], inputs[name] = self._model(str(binding.literal))
            elif binding.parent_input is not None and self._is_data(binding.parent_input):
                path = Path(str(self.pipeline.inputs[binding.parent_input].value))
                values[name], inputs[name] = str(path), self._data_hash(step, name, path)
            else:
                values[name] = parameters[name] = self._literal(binding.parent_input, port)
        code = code_of(step)
        key = ReuseKey(
            code=f"built-in {step.type.value}" if code is None else self._sealed_hash(Path(code)),
            environment=environment_of(step).spec_hash(),
            parameters={**key_parameters(step), **parameters},
            inputs=inputs,
        )
        return ResolvedInputs(values, parameters, key, versions)

    def output_path(self, step: Step, run_id: str, output: str) -> Path:
        """Where output `output` of `step`'s run `run_id` is (read once it has completed)."""
        run, path = output_artifact(self.ws, step, run_id, output)
        return self.ws.local_artifacts.run_root(run) / path

    @staticmethod
    def _names_model(step: Step, port: StepInput) -> bool:
        literal = port.binding.literal
        return (
            isinstance(literal, str)
            and step.type.kind is not None
            and (model_reference(literal) is not None)
        )

    def _model(self, reference: str) -> tuple[str, str]:
        """A registered model a built-in step reads: its pinned reference, and its files'
        hash (a version never changes)."""
        named = model_reference(reference)
        assert named is not None
        folder, pinned = resolve_model(self.ws, named)
        return f"model:{pinned}", self._sealed_hash(folder)

    def _data_reference(self, port: StepInput) -> str | None:
        """The data asset version (`data:x:3`, pinned at submission) a step input reads: the
        pipeline's input it is bound to, or its own `path:`."""
        binding = port.binding
        if binding.parent_input is not None and self._is_data(binding.parent_input):
            value = self.pipeline.inputs[binding.parent_input].value
        elif binding.literal is not None and port.type is not None and port.type.is_data:
            value = binding.literal
        else:
            return None
        return value if isinstance(value, str) and is_data_reference(value) else None

    def _version(self, reference: str) -> tuple[str, str, DataReference]:
        """The version's read-only copy, and its content hash as recorded (never rehashed)."""
        version = data.get_data_version(self.ws, reference)
        path = data.data_path(self.ws, version)
        return str(path), version.content_hash, DataReference(version.name, version.version)

    def _is_data(self, name: str) -> bool:
        return self.pipeline.inputs[name].type.is_data

    def _literal(self, parent_input: str | None, port: StepInput) -> str:
        if parent_input is not None:
            return str(self.pipeline.inputs[parent_input].value)
        return str(port.binding.literal)

    def _sealed_hash(self, path: Path) -> str:
        if path not in self._hashes:
            self._hashes[path] = content_hash_of(path)
        return self._hashes[path]

    def _data_hash(self, step: Step, name: str, path: Path) -> str:
        if not path.exists():
            raise NotFound(
                f"step {step.name!r} input {name!r}: {str(path)!r} does not exist any more (it"
                " did when the pipeline was submitted): put the data back, or submit the"
                " pipeline with another path",
                step=step.name,
                path=str(path),
            )
        # Unchanged files by their size, time and inode (the data assets' cache): a folder of
        # 10,000 images is not read again for every step and every run.
        return build_manifest(path, HashCache.in_cache_dir(self.ws.cache_dir)).content_hash


def environment_of(step: Step) -> Environment:
    if step.environment is None:
        return Environment.default()
    return Environment.from_dict(dict(step.environment))


def decide(
    ws: OpenWorkspace,
    parent: Run,
    pipeline: Pipeline,
    step: Step,
    key: ReuseKey,
    forced: str | None,
) -> Decision:
    """Reuse the newest completed run with the same key, unless forced; else say why not."""
    if forced is not None:
        return Decision(f"forced rerun ({forced})")
    store = ws.pipeline_store
    found = store.find_reusable_step(key.digest)
    if found is not None:
        return Decision(
            f"reused run {found.run_id}'s outputs: same code, environment, parameters and"
            " input content",
            reuse=found.run_id,
        )
    previous = store.latest_pipeline_step(
        parent.experiment_name, pipeline.name, step.name, parent.id
    )
    if previous is None:
        return Decision("first run")
    change = describe_change(previous.key, key)
    if previous.key == key:
        change = (
            f"no completed run has this key (the latest, run {previous.run_id}, did not complete)"
        )
    return Decision(change)
